"""A reader/writer lock between concurrent runs and xdist workers sharing one cluster.

The db/msg Services hold the publicIP and cannot be duplicated per worker, and echo pods are
pinned to nodes, so tests that use the cluster share it (shared lock) while a disruptive
test (pod moves, cordons) takes it alone (exclusive lock). flock(2) works across processes
and is released by the kernel if a worker dies, so a crash never wedges the suite. A gate
lock gives writers preference: an exclusive waiter holds the gate, so new shared holders
queue behind it instead of starving it under -n 4.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from kubegate.wait import poll


def _acquire(fh: IO[str], mode: int, deadline: float, what: str) -> None:
    def taken() -> bool | None:
        try:
            fcntl.flock(fh, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return None

    poll(taken, timeout=max(0.0, deadline - time.monotonic()), every=0.2,
         describe=lambda _: f"waited too long for the cluster lock {what}; is another run stuck?")


@contextmanager
def flock(path: Path, *, exclusive: bool, timeout: float = 1800) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    gate = path.with_suffix(".gate")
    deadline = time.monotonic() + timeout
    what = f"{path.name} ({'exclusive' if exclusive else 'shared'})"
    with open(path, "a+") as fh, open(gate, "a+") as gh:
        _acquire(gh, fcntl.LOCK_EX, deadline, what)
        try:
            _acquire(fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, deadline, what)
        finally:
            if not exclusive:
                fcntl.flock(gh, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            if exclusive:
                fcntl.flock(gh, fcntl.LOCK_UN)
