"""`kubegate soak`'s reading of run summaries: per test failures and flip rate, and which runs
were not on a healthy cluster (pure logic over summary.json shapes the report writes)."""

from __future__ import annotations

from typing import Any

from kubegate.soak import Soak


def _summary(run: str, outcomes: dict[str, str], **extra: Any) -> dict[str, Any]:
    bad = [n for n, o in outcomes.items() if o in ("failed", "error")]
    return {"run_id": run, "verdict": "failed" if bad else "passed",
            "counts": {"failed": sum(o == "failed" for o in outcomes.values()),
                       "error": sum(o == "error" for o in outcomes.values())},
            "tests": [{"nodeid": n, "outcome": o} for n, o in outcomes.items()],
            "failures": [{"nodeid": n, "cause": f"cause of {n} in {run}"} for n in bad], **extra}


def test_failures_flips_and_causes_per_test() -> None:
    s = Soak()
    for i, outcome in enumerate(["passed", "failed", "passed", "passed"]):
        s.add(_summary(f"r{i}", {"t::flaky": outcome, "t::steady": "passed"}), 10.0)
    flaky = s.tests["t::flaky"]
    assert (flaky.failures, flaky.flips, round(flaky.flip_rate, 2)) == (1, 2, 0.67)
    assert flaky.causes == ["r1: cause of t::flaky in r1"]
    assert s.tests["t::steady"].failures == 0 and s.false_failures() == 1
    assert "  t::flaky: 1/4 failed, flip rate 0.67" in s.lines()


def test_runs_with_repairs_or_injected_faults_are_named_and_not_counted() -> None:
    s = Soak()
    s.add(_summary("r0", {"t::a": "failed"}, repaired=[{"phase": "node units", "what": "kubelet on minion-2"}]), 1)
    s.add(_summary("r1", {"t::a": "passed"}, facts={"triage: hung db": "..."}), 1)
    assert [r["unhealthy"] for r in s.runs] == [["repaired by node units: kubelet on minion-2"],
                                                ["faults injected: hung db"]]
    assert s.false_failures() == 0
    assert any("NOT HEALTHY: repaired by node units" in line for line in s.lines())
