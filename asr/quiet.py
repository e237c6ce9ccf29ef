"""Keeping C libraries' own console output off our stderr: libmpg123's notes on damaged MP3 frames, flashlight's
trie notes. Our own messages are one line per problem; theirs would interleave with them."""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def silenced_stderr():
    """File descriptor 2 points at /dev/null for the duration (Python's own ``sys.stderr`` is flushed first)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
