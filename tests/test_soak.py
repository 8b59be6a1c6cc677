"""`kubegate soak`'s reading of run summaries: per test failures and flip rate, and which runs
were not on a healthy cluster (pure logic over summary.json shapes the report writes)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

from kubegate.soak import Soak, earlier_failures, run_line, soak

pytest_plugins = ["pytester"]


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


def test_each_run_gets_one_line_with_its_verdict_and_counts() -> None:
    s = Soak()
    s.add(_summary("r0", {"t::a": "failed", "t::b": "passed"}), 12.34)
    assert run_line(s.runs[0]) == "run r0: FAILED in 12.3 s (1 failed)"
    s.add({**_summary("r1", {}), "counts": {}}, 1)
    assert run_line(s.runs[1]) == "run r1: PASSED in 1 s (no tests)"


def test_a_soak_reads_its_own_run_not_the_one_latest_names(pytester: pytest.Pytester) -> None:
    """Found by soaking while another session ran in the same checkout: `latest` names the
    newest-started run, and the soak counted that session's 3 tests as its own run."""
    pytester.makeconftest('pytest_plugins = ["kubegate.pytest.report"]\n')
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    other = pytester.path / "reports" / "20990101-000000-0000"  # started after the soak's run
    other.mkdir(parents=True)
    later = {"run_id": other.name, "started": time.time() + 3600}
    (other / "run.json").write_text(json.dumps(later))
    (other / "summary.json").write_text(json.dumps({**later, "verdict": "passed", "counts": {"passed": 3},
                                                    "tests": [{"nodeid": "other::t", "outcome": "passed"}]}))
    os.symlink(other.name, pytester.path / "reports" / "latest")
    result = soak(1, ["test_a.py"])
    assert result.runs[0]["counts"]["passed"] == 1 and list(result.tests) == ["test_a.py::test_a"]


def test_the_history_names_soaked_tests_that_failed_before_the_soak(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["kubegate.pytest.report"]\n')
    db = pytester.path / "reports" / "history.sqlite"
    assert earlier_failures(Soak(), db) == [f"no run history at {db}: only this soak's runs are counted"]
    pytester.makepyfile(test_f="def test_f():\n    assert False, 'broken last week'\n",
                        test_g="def test_g():\n    pass\n")
    pytester.runpytest_subprocess()
    pytester.makepyfile(test_f="def test_f():\n    pass\n")
    result = soak(2, ["test_f.py"])
    assert result.false_failures() == 0
    lines = earlier_failures(result, db)
    assert lines[0] == f"before this soak (1 earlier runs in {db}): 1 of these tests failed or were flaky"
    assert lines[1].startswith("  test_f.py::test_f: failed or flaky in 1 of its 1 earlier runs, last in ")
    assert "broken last week" in lines[1] and len(lines) == 2  # test_g was not soaked
