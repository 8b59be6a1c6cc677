"""The run history: what a run appends, what the window of runs reads back (grid, new failures,
flakes, trends), an old schema migrated on open, and real inner sessions (pytester) recording
once per run, interrupted or under xdist, with old run folders pruned."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kubegate.history import page, store, window
from kubegate.report.prune import prune_runs

pytest_plugins = ["pytester"]


def _summary(run: str, started: float, outcomes: dict[str, str], phase_s: float = 10.0) -> dict[str, Any]:
    return {"run_id": run, "started": started, "finished": started + 60, "verdict": "passed", "exitstatus": 0,
            "counts": {"passed": 1}, "server_version": "v1.37.2",
            "tests": [{"nodeid": n, "outcome": "passed" if o == "flaky" else o, "duration_s": 1.0,
                       "reruns": 1 if o == "flaky" else 0, "cause": f"cause in {run}" if o == "failed" else ""}
                      for n, o in outcomes.items()],
            "phases": [{"name": "vagrant up", "kind": "phase", "duration_s": phase_s}],
            "probes": {"db ClusterIP": {"count": 3, "failed": 0, "median_s": 0.01}}}


def _fill(path: Path, plan: list[dict[str, str]], slow_last: bool = False) -> None:
    for i, outcomes in enumerate(plan):
        slow = slow_last and i == len(plan) - 1
        store.record(path, _summary(f"r{i:02d}", 1000.0 + i, outcomes, 30.0 if slow else 10.0),
                     revision="abc", cluster="vagrant")


def test_window_names_new_failures_still_failing_flaky_and_trends(tmp_path: Path) -> None:
    db_path = tmp_path / "h.sqlite"
    plan = [{"t::new": "passed", "t::old": "passed", "t::flake": "passed"} for _ in range(6)]
    plan[2]["t::flake"] = "failed"
    plan[4]["t::flake"] = "flaky"
    plan[4]["t::old"] = plan[5]["t::old"] = "failed"
    plan[5]["t::new"] = "failed"
    _fill(db_path, plan, slow_last=True)
    with store.connect(db_path) as db:
        w = window.load(db, last=10)
    assert [r["run_id"] for r in w.runs] == [f"r{i:02d}" for i in range(6)]
    by_id = {t.nodeid: t for t in w.tests}
    assert by_id["t::flake"].outcomes == ["passed", "passed", "failed", "passed", "flaky", "passed"]
    assert by_id["t::flake"].flaky and round(by_id["t::flake"].flip_rate, 2) == 0.8
    assert "new failure in r05: t::new after 5 runs: cause in r05" in w.news()
    assert "new failure in r02: t::flake after 2 runs: cause in r02" in w.news()
    assert "still failing since r04 (2 runs): t::old: cause in r05" in w.news()
    assert "flaky: t::flake: flip rate 80%, failed 17% of its runs, passed only after a rerun in r04" in w.news()
    assert ("phase vagrant up", 30.0, 10.0, 200.0) in w.trends()
    lines = window.grid_lines(w)
    assert any(line.startswith("t::flake") and "..F.f." in line and "flaky" in line for line in lines)
    assert any("trend: phase vagrant up" in line and "(+200%)  <- moved" in line for line in lines)
    html = page.render(w)
    assert "<svg" in html and "new failure in r05: t::new" in html


def test_a_run_recorded_again_is_replaced_not_doubled(tmp_path: Path) -> None:
    db_path = tmp_path / "h.sqlite"
    _fill(db_path, [{"t::a": "failed"}])
    _fill(db_path, [{"t::a": "passed"}])
    with store.connect(db_path) as db:
        assert db.execute("SELECT count(*), min(outcome) FROM tests").fetchone() == (1, "passed")


def test_a_database_of_the_previous_schema_opens_after_an_upgrade(tmp_path: Path) -> None:
    db_path = tmp_path / "old.sqlite"
    with store.connect(db_path, upto=store.SCHEMA_VERSION - 1) as db, db:  # what the previous kubegate wrote
        db.execute("INSERT INTO runs (run_id, started, verdict, counts) VALUES ('old', 1.0, 'passed', '{}')")
        db.execute("INSERT INTO tests (run_id, nodeid, outcome) VALUES ('old', 't::a', 'passed')")
    _fill(db_path, [{"t::a": "failed"}])
    with store.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        w = window.load(db)
    assert [r["run_id"] for r in w.runs] == ["old", "r00"] and not w.runs[0]["interrupted"]
    assert w.tests[0].outcomes == ["passed", "failed"]


def test_a_database_of_a_newer_kubegate_is_refused_in_one_line(tmp_path: Path) -> None:
    db_path = tmp_path / "new.sqlite"
    sqlite3.connect(db_path).execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    with pytest.raises(sqlite3.DatabaseError, match="written by a newer kubegate"), store.connect(db_path):
        pass


CONFTEST = 'pytest_plugins = ["kubegate.pytest.report"]\n'


def _history(pytester: pytest.Pytester) -> window.Window:
    with store.connect(pytester.path / "reports" / "history.sqlite") as db:
        return window.load(db)


def test_every_run_appends_once_and_an_interrupted_run_is_flagged(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_a="def test_a():\n    pass\n",
                        test_b="def test_b():\n    raise KeyboardInterrupt\n\ndef test_c():\n    pass\n")
    pytester.runpytest_subprocess("test_a.py")  # a subprocess: the interrupt must not reach this session
    result = pytester.runpytest_subprocess("test_a.py", "test_b.py")
    assert result.ret == 2
    w = _history(pytester)
    assert [r["interrupted"] for r in w.runs] == [False, True]
    assert {t.nodeid: t.outcomes for t in w.tests}["test_a.py::test_a"] == ["passed", "passed"]


def test_under_xdist_the_controller_records_the_run_once(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_x="import pytest\n@pytest.mark.parametrize('i', range(6))\ndef test_x(i):\n    pass\n")
    pytester.runpytest("-n", "2", "-p", "no:cacheprovider")
    w = _history(pytester)
    assert len(w.runs) == 1 and len(w.tests) == 6


def test_keep_runs_prunes_old_finished_run_folders_only(tmp_path: Path) -> None:
    for i in range(5):
        run = tmp_path / f"20261203-00000{i}-abcd"
        run.mkdir()
        if i != 0:
            (run / "summary.json").write_text("{}")
    (tmp_path / "latest").symlink_to("20261203-000004-abcd")
    assert prune_runs(tmp_path, 2, "20261203-000004-abcd") == ["20261203-000001-abcd", "20261203-000002-abcd"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "20261203-000000-abcd", "20261203-000003-abcd", "20261203-000004-abcd", "latest"]  # 0: still running


def test_report_html_shows_a_failed_tests_history_strip_and_the_phase_trend(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_f="def test_f():\n    pass\n")
    pytester.runpytest_subprocess()
    pytester.runpytest_subprocess()
    pytester.makepyfile(test_f="def test_f():\n    assert False, 'broken now'\n")
    pytester.runpytest_subprocess()
    html = (pytester.path / "reports" / "latest" / "report.html").read_text()
    assert "<h2>History</h2>" in html and "last 3 runs, this one last" in html
    assert html.count('title="passed"') == 2 and 'title="failed"' in html


FLAKY = """
ATTEMPTS = []

def test_once_broken():
    ATTEMPTS.append(1)
    assert len(ATTEMPTS) > 1, "the first attempt fails"

def test_fine():
    pass
"""


def test_a_pass_after_rerun_is_flaky_in_the_verdict_line_and_the_history(pytester: pytest.Pytester) -> None:
    """With pytest-rerunfailures (the `reruns` extra) and --reruns: never a plain pass."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_flaky=FLAKY)
    result = pytester.runpytest("--reruns", "2")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["verdict: PASSED*(1 passed, 1 flaky, 0 failed*",
                                 "flaky: test_flaky.py::test_once_broken passed only after 1 rerun"])
    w = _history(pytester)
    assert {t.nodeid: t.outcomes[-1] for t in w.tests}["test_flaky.py::test_once_broken"] == "flaky"
    result = pytester.runpytest("--reruns", "2", "--flaky-blocks")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["verdict: FAILED*1 flaky*", "flaky: *(--flaky-blocks: the run FAILED)"])
