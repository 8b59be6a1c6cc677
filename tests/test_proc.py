"""Side-by-side builds stop at the first failure; nothing keeps running behind the error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kubegate.errors import KubegateError
from kubegate.rig.build.proc import Cancelled, Stop, run, side_by_side


def test_run_logs_the_output_and_returns_the_exit_code(tmp_path: Path) -> None:
    log = tmp_path / "b.log"
    assert run(["sh", "-c", "echo hello; echo oops >&2; exit 3"], log=log) == 3
    assert log.read_text() == "hello\noops\n"


def test_a_set_stop_kills_the_whole_process_group_within_seconds(tmp_path: Path) -> None:
    stop = Stop()
    pidfile = tmp_path / "child"
    started = time.monotonic()
    with pytest.raises(KubegateError, match="image db failed"):
        side_by_side(lambda item: _job(item, stop, tmp_path, pidfile), ["slow", "fails"], stop,
                     name=lambda item: "image db" if item == "fails" else item)
    assert time.monotonic() - started < 15
    child = int(pidfile.read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]


def _job(item: str, stop: Stop, tmp: Path, pidfile: Path) -> None:
    if item == "slow":
        # a grandchild that would outlive a plain kill of the shell: the group kill reaches it
        run(["sh", "-c", f"sleep 300 & echo $! > {pidfile}; wait"], log=tmp / "slow.log", stop=stop)
    else:
        while not pidfile.is_file():
            time.sleep(0.05)
        raise KubegateError("image db failed")


def test_the_reported_error_is_the_failure_not_a_stopped_sibling(tmp_path: Path) -> None:
    stop = Stop()

    def work(item: str) -> str:
        if item == "bad":
            time.sleep(0.3)
            raise KubegateError("the real cause")
        run(["sleep", "60"], log=tmp_path / f"{item}.log", stop=stop)
        return item

    with pytest.raises(KubegateError, match="the real cause") as info:
        side_by_side(work, ["a", "bad", "b"], stop)
    assert not isinstance(info.value, Cancelled)
    assert stop.is_set() and "bad failed" in stop.reason


def test_results_come_back_in_order_when_nothing_fails(tmp_path: Path) -> None:
    assert side_by_side(lambda n: n * 2, [3, 1, 2], Stop()) == [6, 2, 4]


def test_a_stop_set_before_the_command_starts_runs_nothing(tmp_path: Path) -> None:
    stop = Stop()
    stop.set("earlier failure")
    with pytest.raises(Cancelled, match="earlier failure"):
        run(["touch", str(tmp_path / "ran")], log=tmp_path / "x.log", stop=stop)
    assert not (tmp_path / "ran").exists()


def test_an_interrupt_in_the_waiting_thread_stops_the_workers_commands(tmp_path: Path) -> None:
    """Ctrl-C is delivered to the main thread, which waits; the builds run in workers and must
    not go on to their end behind the interrupted command."""
    import os
    import signal
    import threading

    stop = Stop()
    # A shell without job control starts background jobs with SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: this test asks for Python's own, as a terminal has it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()  # as a terminal's Ctrl-C
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            side_by_side(lambda n: run(["sleep", "60"], log=tmp_path / f"{n}.log", stop=stop), [1, 2], stop)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 15
    assert stop.is_set() and stop.reason == "interrupted"
