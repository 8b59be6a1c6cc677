"""Every lock between kubegate's processes: one mechanism (flock(2)), each lock named here.

Concurrent runs, xdist workers and the CLI share one checkout's cluster; what they must not do
at once is serialized by a file lock in `.cluster/`, named below so a reader finds every
lock of the project in one place. flock(2) works across processes and the kernel releases it
when a holder dies, so a crash never wedges the suite.

The reader/writer lock (`hold_rw`): the db/msg Services hold the publicIP
and cannot be duplicated per worker, and echo pods are pinned to nodes, so tests that use the
cluster share it (shared lock) while a disruptive test (pod moves, cordons) takes it alone
(exclusive lock). A gate lock gives writers preference: an exclusive waiter holds the gate,
so new shared holders queue behind it instead of starving it under -n 4.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TextIO

from kubegate.wait import poll

# The locks in `.cluster/`, by what they serialize.
UP = "up.lock"  # one bring-up (or `kubegate build`) at a time per checkout
UP_FIXTURE = "up-fixture.lock"  # the session's bring-up, once per run (kubegate.runs.once)
DEPLOY = "deploy.lock"  # the db/msg deploy, once per run
APP = "app.lock"  # the seed's consumers' deploy, once per run
UPSTREAM = "upstream.lock"  # upstream's specs, once per run
CLUSTER_SHARE = "cluster-share.lock"  # tests share the cluster; disruptive ones hold it alone
APP_LOAD = "app-load.lock"  # tests share the app; timing-sensitive ones hold it alone
CLIENTS = "clients.lock"  # completing the kept client pods


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
def hold(path: Path, *, timeout: float = 1800) -> Iterator[None]:
    """Hold the lock at `path` alone for the block; waiting longer than `timeout` raises
    WaitTimeout naming the lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        _acquire(fh, fcntl.LOCK_EX, time.monotonic() + timeout, f"{path.name} (exclusive)")
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def hold_rw(path: Path, *, exclusive: bool, timeout: float = 1800) -> Iterator[None]:
    """The reader/writer lock at `path`: shared, or exclusive with preference over new shared
    holders (its gate file beside it); waiting longer than `timeout` raises WaitTimeout."""
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


def try_hold(path: Path) -> TextIO | None:
    """The lock at `path`, taken now or not at all: the open file that holds it (held until
    closed), or None when another process holds it. A run's liveness lock is held this way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")  # noqa: SIM115 - the caller holds it open for as long as it needs the lock
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    return fh
