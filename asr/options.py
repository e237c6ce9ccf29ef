"""Option dataclasses that the CLI reads its defaults from; light to import (no torch)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import UsageError


def default_threads() -> int:
    """Half the cores, at least one: on a machine busy with other work, more threads than free cores can be many
    times slower than one (see docs/benchmarks.md), while half the cores loses little when the machine is idle."""
    return max(1, (os.cpu_count() or 1) // 2)


@dataclass(frozen=True)
class TranscribeOptions:
    batch_size: int = 8  # segments decoded together (across files too)
    threads: int | None = field(default=None)  # CPU threads; None = default_threads()

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise UsageError(f"batch size must be at least 1, got {self.batch_size}")
        if self.threads is None:
            object.__setattr__(self, "threads", default_threads())
        elif self.threads < 1:
            raise UsageError(f"threads must be at least 1, got {self.threads}")
