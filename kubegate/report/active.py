"""Which run library code records into, without being handed one.

Precedence: the innermost run activated in this process (the pytest plugin activates its
run for the session; the CLI may activate its own), then the run named by
``KUBEGATE_RUN_DIR`` (so a ``kubegate`` subprocess started by a test lands in the same
report), then a no-op recorder. A stack rather than a single slot because pytester runs
nested sessions in-process, each with its own run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kubegate.report.recorder import NullRecorder, Recorder
from kubegate.report.run import META_FILE, RUN_DIR_ENV, Run

_lock = threading.Lock()
_stack: list[Run] = []
_joined: dict[tuple[int, str], Run] = {}
NULL = NullRecorder()


def current() -> Recorder:
    with _lock:
        if _stack:
            return _stack[-1]
        run_dir = os.environ.get(RUN_DIR_ENV, "")
        if not run_dir or not (Path(run_dir) / META_FILE).is_file():
            return NULL
        # Keyed by pid as well: a forked child must write its own part file, not its parent's.
        key = (os.getpid(), run_dir)
        if key not in _joined:
            try:
                _joined[key] = Run.join(run_dir, origin=f"proc-{os.getpid()}")
            except (OSError, ValueError, KeyError):
                return NULL
        return _joined[key]


def activate(run: Run) -> None:
    with _lock:
        _stack.append(run)


def deactivate(run: Run) -> None:
    with _lock:
        for i in range(len(_stack) - 1, -1, -1):
            if _stack[i] is run:
                del _stack[i]
                return


@contextmanager
def activated(run: Run) -> Iterator[Run]:
    activate(run)
    try:
        yield run
    finally:
        deactivate(run)
