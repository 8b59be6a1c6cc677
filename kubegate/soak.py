"""`kubegate soak`: the same selection N times back to back on one healthy cluster, and per test
how often it failed and flipped: the flake hunt a release gate needs before anyone trusts it.

Each run is a plain pytest session (its own reports/<run-id>/, verdict and summary.json); the
soak reads the summaries. A run in which the bring-up repaired something, or the fault suite
injected faults, is not a run on a healthy cluster: its failures are not counted as false
failures, and the soak says which runs those were instead of calling the cluster healthy.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubegate.errors import KubegateError
from kubegate.history import store, window
from kubegate.report.run import RECEIPT_ENV

BAD = window.BAD


@dataclass
class TestRecord:
    __test__ = False

    nodeid: str
    outcomes: list[str] = field(default_factory=list)  # one per run it ran in, in order
    causes: list[str] = field(default_factory=list)  # cause line or headline of each failure

    @property
    def failures(self) -> int:
        return sum(o in BAD for o in self.outcomes)

    @property
    def flips(self) -> int:
        """Changes between failing and not failing from one run to the next."""
        bad = [o in BAD for o in self.outcomes]
        return sum(a != b for a, b in itertools.pairwise(bad))

    @property
    def flip_rate(self) -> float:
        return self.flips / (len(self.outcomes) - 1) if len(self.outcomes) > 1 else 0.0


@dataclass
class Soak:
    runs: list[dict[str, Any]] = field(default_factory=list)  # run id, verdict, seconds, unhealthy
    tests: dict[str, TestRecord] = field(default_factory=dict)

    def add(self, summary: dict[str, Any], seconds: float) -> None:
        unhealthy = unhealthy_reasons(summary)
        self.runs.append({"run_id": summary.get("run_id"), "verdict": summary.get("verdict"),
                          "seconds": round(seconds, 1), "counts": summary.get("counts", {}),
                          "unhealthy": unhealthy})
        failures = {f["nodeid"]: f.get("cause") or f.get("headline") or "" for f in summary.get("failures", [])}
        for test in summary.get("tests", []):
            rec = self.tests.setdefault(test["nodeid"], TestRecord(test["nodeid"]))
            rec.outcomes.append(test["outcome"])
            if test["outcome"] in BAD:
                rec.causes.append(f"{summary.get('run_id')}: {failures.get(test['nodeid'], '')}")

    def false_failures(self) -> int:
        """Failed or errored tests in runs on a healthy cluster: each one is a defect to fix."""
        healthy = [r for r in self.runs if not r["unhealthy"]]
        return sum(r["counts"].get("failed", 0) + r["counts"].get("error", 0) for r in healthy)

    def as_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "false_failures": self.false_failures(),
                "tests": [{"nodeid": t.nodeid, "runs": len(t.outcomes), "failures": t.failures,
                           "flip_rate": round(t.flip_rate, 3), "causes": t.causes}
                          for t in sorted(self.tests.values(), key=lambda t: (-t.failures, t.nodeid))]}

    def lines(self) -> list[str]:
        out = [f"soak: {len(self.runs)} runs, {self.false_failures()} false failures on a healthy cluster"]
        out += [f"  {run_line(r)}" for r in self.runs]
        flaky = [t for t in self.tests.values() if t.failures]
        out.append(f"tests that failed at least once: {len(flaky)} of {len(self.tests)}")
        for t in sorted(flaky, key=lambda t: (-t.failures, t.nodeid)):
            out.append(f"  {t.nodeid}: {t.failures}/{len(t.outcomes)} failed, flip rate {t.flip_rate:.2f}")
            out += [f"    {c}" for c in t.causes[:5]]
        return out


def run_line(run: dict[str, Any]) -> str:
    """One run's verdict, counts and health: printed as each run ends, so a long soak is not silent."""
    counts = ", ".join(f"{n} {k}" for k, n in run["counts"].items() if n and k != "total")
    flag = f"  NOT HEALTHY: {'; '.join(run['unhealthy'])}" if run["unhealthy"] else ""
    return f"run {run['run_id']}: {str(run['verdict']).upper()} in {run['seconds']} s ({counts or 'no tests'}){flag}"


def unhealthy_reasons(summary: dict[str, Any]) -> list[str]:
    """Why a run did not happen on a healthy cluster: something repaired, faults injected."""
    reasons = [f"repaired by {r['phase']}: {r['what']}" for r in summary.get("repaired") or []]
    injected = sorted(k.removeprefix("triage: ") for k in summary.get("facts", {}) if k.startswith("triage: "))
    if injected:
        reasons.append("faults injected: " + ", ".join(injected))
    return reasons


def _own_summary(receipt: Path, after: float) -> dict[str, Any]:
    """The summary of the run this soak started, found through its receipt: not `latest`,
    which another pytest session in the same reports dir may have claimed meanwhile."""
    try:
        path = Path(receipt.read_text().strip()) / "summary.json"
    except OSError:
        raise KubegateError("soak: the run named no run folder (did pytest start, with kubegate's plugin? "
                            "see its output above)") from None
    try:
        summary: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KubegateError(f"soak: the run wrote no readable {path}: {exc}") from None
    if float(summary.get("started", 0)) < after:
        raise KubegateError(f"soak: {path} is an older run's")
    return summary


def soak(runs: int, pytest_args: Sequence[str]) -> Soak:
    """Run `python -m pytest ARGS` `runs` times, each to its end (a failure does not stop the soak)."""
    if runs < 1:
        raise KubegateError("soak: --runs must be at least 1")
    result = Soak()
    with tempfile.TemporaryDirectory(prefix="kubegate-soak-") as tmp:
        receipt = Path(tmp) / "run"
        env = {**os.environ, RECEIPT_ENV: str(receipt)}
        for i in range(runs):
            started = time.time()
            receipt.unlink(missing_ok=True)
            print(f"soak: run {i + 1} of {runs}: pytest {' '.join(pytest_args)}", flush=True)
            proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *pytest_args],
                                  check=False, stdout=subprocess.DEVNULL, env=env)
            if proc.returncode in (2, 3, 4) and not receipt.is_file():
                raise KubegateError(f"soak: pytest exited {proc.returncode} (interrupted, internal or usage error)")
            result.add(_own_summary(receipt, started - 1), time.time() - started)
            print(f"soak: {run_line(result.runs[-1])}", flush=True)
    return result


def earlier_failures(result: Soak, db_path: Path, last: int = 20) -> list[str]:
    """What the run history says of the soaked tests before the soak: a test that passed every
    soak run but failed in the gate last week is still a suspect the soak alone would hide."""
    if not db_path.is_file():
        return [f"no run history at {db_path}: only this soak's runs are counted"]
    soaked = {r["run_id"] for r in result.runs}
    with store.connect(db_path) as db:
        w = window.load(db, last=last + len(soaked))
    keep = [i for i, r in enumerate(w.runs) if r["run_id"] not in soaked][-last:]
    lines = []
    for t in w.tests:
        if t.nodeid not in result.tests:
            continue
        ran = [(w.runs[i]["run_id"], t.outcomes[i]) for i in keep if t.outcomes[i] is not None]
        bad = [run_id for run_id, o in ran if o in BAD or o == "flaky"]
        if bad:
            lines.append(f"  {t.nodeid}: failed or flaky in {len(bad)} of its {len(ran)} earlier runs, last in "
                         f"{bad[-1]}: {t.causes.get(bad[-1], '') or '(passed after a rerun)'}")
    head = (f"before this soak ({len(keep)} earlier runs in {db_path}): "
            f"{len(lines)} of these tests failed or were flaky")
    return [head, *lines]
