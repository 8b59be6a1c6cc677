"""`kubegate bench`: the bring-up and gate timings issue reports quote, repeated and summarised.

cached: `kubegate down` then `kubegate up` (machines recreated, every cache warm); warm: the
release gate on a running cluster (`pytest suites/ -m smoke`); full: every kubegate suite
(`-m "not upstream"`: upstream's 75 specs run in their own e2e.test processes and take three
minutes whatever pytest does), serial and with `-n 4`. Each is timed as a user would time it
(the whole command), N times, and printed as min/median/max so a regression is one glance away.
A cold measurement needs empty caches (the Go caches, KUBEGATE_CACHE, and the kubegate/* images
removed) and is left to the documented procedure in docs/architecture.md.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from kubegate.errors import KubegateError

KINDS = ("cached", "warm", "full", "full-n4")


def _commands(kind: str) -> list[list[str]]:
    cli = [sys.executable, "-m", "kubegate.cli"]
    pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    return {
        "cached": [[*cli, "down"], [*cli, "up"]],
        "warm": [[*pytest, "suites/", "-m", "smoke"]],
        "full": [[*pytest, "suites/", "-m", "not upstream"]],
        "full-n4": [[*pytest, "suites/", "-m", "not upstream", "-n", "4"]],
    }[kind]


def measure(root: Path, kind: str, runs: int) -> list[float]:
    """Seconds per run of the timed command (for `cached`, `up` only: `down` prepares it).

    `warm` and `full` start with one untimed run: on a cluster just brought up (after `cached`,
    say) the first run deploys db, msg and the app, which is not what a warm run costs."""
    times: list[float] = []
    if kind != "cached":
        subprocess.run(_commands(kind)[-1], cwd=root, capture_output=True, check=False)
    for _ in range(runs):
        *prepare, timed = _commands(kind)
        for cmd in prepare:
            subprocess.run(cmd, cwd=root, capture_output=True, check=False)
        started = time.monotonic()
        proc = subprocess.run(timed, cwd=root, capture_output=True, text=True, check=False)
        times.append(time.monotonic() - started)
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
            raise KubegateError(f"bench {kind}: `{' '.join(timed[1:])}` exited {proc.returncode}: {' | '.join(tail)}")
    return times


def line(kind: str, times: Sequence[float]) -> str:
    return (f"{kind:8} n={len(times)}  min {min(times):6.1f}s  median {statistics.median(times):6.1f}s  "
            f"max {max(times):6.1f}s")
