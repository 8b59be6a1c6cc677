"""Work done once per run however many processes ask: xdist workers, a second terminal.

The first process to take the lock does the work and leaves a marker named after the run;
every later one finds the marker and takes the cheap path (reading back what the first made).
A file lock, not a flag in memory, because the askers are separate processes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from kubegate import mutex

T = TypeVar("T")


def once_per_run(lock: Path, marker: Path, first: Callable[[], T], later: Callable[[], T]) -> T:
    with mutex.hold(lock):
        if marker.is_file():
            return later()
        result = first()
        marker.touch()
        return result
