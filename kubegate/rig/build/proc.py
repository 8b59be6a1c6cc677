"""A build command that a failing sibling can stop, and that says it is alive while it runs.

Builds run side by side (the Go compile beside the image builds, the images beside each
other). When one fails, the rest are wasted minutes: the user waits for them only to read an
error that was known long before. So every build command runs in its own process group under
a shared `Stop`; the first failure sets it, and the others are killed within a second. A
killed `go build` leaves Go's build cache usable (its entries are written atomically), and a
killed `docker build --force-rm` removes its intermediate container.

A long command is silent by nature (its output goes to a log); the bring-up's progress
ticker (kubegate.report.progress) reads the logs to say what it is doing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import TypeVar

from kubegate.errors import KubegateError

T = TypeVar("T")
R = TypeVar("R")


class Cancelled(KubegateError):
    """Stopped because another build failed first; that failure is the one to report."""


class BuildFailed(KubegateError):
    """A build command failed; `log` is where its whole output is."""

    def __init__(self, message: str, log: Path) -> None:
        super().__init__(f"{message}; full log: {log}")
        self.log = log


class Stop:
    """Set once, by the first failure; every command running under it is killed."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise Cancelled if set: called between the steps of a multi-command build."""
        if self.is_set():
            raise Cancelled(f"stopped: {self.reason}")


def _kill_group(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run(cmd: Sequence[str], *, log: Path, stop: Stop | None = None, cwd: Path | None = None,
        env: Mapping[str, str] | None = None) -> int:
    """Run `cmd` with stdout and stderr appended to `log`; its exit code. Raises Cancelled (after
    killing the command's whole process group) when `stop` is set while it runs."""
    if stop is not None:
        stop.check()
    with log.open("ab") as fh:
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=dict(env) if env is not None else None, stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            while True:
                try:
                    return proc.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
                if stop is not None and stop.is_set():
                    _kill_group(proc)
                    raise Cancelled(f"stopped: {stop.reason}")
        except BaseException:  # Ctrl-C or a bug here: never leave the build running behind us
            if proc.poll() is None:
                _kill_group(proc, grace_s=5.0)
            raise


def side_by_side(work: Callable[[T], R], items: Iterable[T], stop: Stop, *, workers: int | None = None,
                 name: Callable[[T], str] = str) -> list[R]:
    """`work(item)` for every item in parallel threads; their results in order. The first item
    that fails sets `stop`, so the others' commands are killed at once; its error is raised (an
    item that was only stopped is never the reported cause)."""
    items = list(items)
    if not items:
        return []

    def one(item: T) -> R:
        try:
            return work(item)
        except Cancelled:
            raise
        except BaseException:
            stop.set(f"{name(item)} failed")
            raise

    with ThreadPoolExecutor(max_workers=workers or len(items)) as pool:
        futures = [pool.submit(one, item) for item in items]
        try:
            wait(futures)
        except BaseException:  # Ctrl-C or SIGTERM reach this thread only: the workers' commands stop too
            stop.set("interrupted")
            raise
    errors = [e for f in futures if (e := f.exception()) is not None]
    if errors:
        raise next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
    return [f.result() for f in futures]
