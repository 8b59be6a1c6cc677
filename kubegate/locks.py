"""A reader/writer lock between concurrent runs and xdist workers sharing one cluster.

The db/msg Services hold the publicIP and cannot be duplicated per worker, so tests that
use them share them (shared lock) while a disruptive test (pod moves, cordons) takes them
alone (exclusive lock). flock(2) gives exactly that across processes and is released by
the kernel if a worker dies, so a crash never leaves the suite wedged.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def flock(path: Path, *, exclusive: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
