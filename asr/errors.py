"""The one base class of the errors a user can cause (bad file, bad option, bad config).

The CLI prints any :class:`AsrError` as ``asr: error: <message>`` and exits with status 1; any other exception is a
bug and keeps its traceback.
"""

from __future__ import annotations


class AsrError(Exception):
    """A problem with the user's input, told in one line that names the file or option and the reason."""


class UsageError(AsrError, ValueError):
    """An option or argument value that cannot be used (out of range, contradictory)."""


class CheckpointError(AsrError):
    """A checkpoint cannot be read; one line naming the file and the reason."""


class TrainError(AsrError):
    """Training cannot start; one line saying why."""
