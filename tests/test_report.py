"""kubegate.report end to end: real inner pytest sessions (pytester) with the plugin loaded,
checking what release engineers rely on: junit.xml where CI looks, counts that add up,
failures first in report.html, xdist workers' records merged, reports/latest moving."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from kubegate.report import NullRecorder, Run, publish
from kubegate.report.results import TestResults

pytest_plugins = ["pytester"]

CONFTEST = """
import time
import pytest
import kubegate.report

pytest_plugins = ["kubegate.pytest.report"]

@pytest.fixture(scope="session", autouse=True)
def cluster():
    run = kubegate.report.current()
    with run.phase("vagrant up", nodes=4):
        time.sleep(0.01)
    run.add_fact("cluster version", "v1.34.4")
    yield
"""

TESTS = """
import subprocess, sys
import kubegate.report

def test_passes(kubegate_run):
    assert kubegate.report.current() is kubegate_run
    kubegate_run.record_probe("db ClusterIP", 0.010, True)
    kubegate_run.record_probe("db ClusterIP", 0.030, True)
    kubegate_run.record_probe("db ClusterIP", 0.020, False)
    # a CLI process started by a test joins the run through KUBEGATE_RUN_DIR
    code = "import kubegate.report as r; r.current().record_probe('cli probe', 0.5, True)"
    subprocess.run([sys.executable, "-c", code], check=True)

def test_breaks(request, tmp_path, kubegate_run):
    log = tmp_path / "db-0.log"
    log.write_text("connection refused\\n")
    kubegate_run.attach(request.node.nodeid, log, "db-0 <logs>")
    assert 1 == 2, "db answered <script>alert(1)</script>"
"""


def _run_dir(pytester: pytest.Pytester) -> Path:
    dirs = [p for p in (pytester.path / "reports").iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def _summary(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return data


def test_failing_run_writes_junit_summary_and_html_with_failure_first(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_demo=TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*= kubegate report =*", "verdict: FAILED*1 passed, 1 failed*", "report: *report.html"]
    )

    run_dir = _run_dir(pytester)
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", run_dir.name)
    assert os.readlink(pytester.path / "reports" / "latest") == run_dir.name

    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    props = [(p.get("name"), p.get("value")) for p in suite.iter("property")]
    assert len(props) == 1 and props[0][0] == "diagnostics"
    assert (run_dir / str(props[0][1])).read_text() == "connection refused\n"  # copied into the run dir

    s = _summary(run_dir)
    assert s["verdict"] == "failed"
    assert {k: s["counts"][k] for k in ("total", "passed", "failed", "error", "reruns")} == {
        "total": 2,
        "passed": 1,
        "failed": 1,
        "error": 0,
        "reruns": 0,
    }
    [failure] = s["failures"]
    assert failure["nodeid"] == "test_demo.py::test_breaks"
    assert "<script>" in failure["headline"]
    assert [a["label"] for a in failure["attachments"]] == ["db-0 <logs>"]
    probe = s["probes"]["db ClusterIP"]
    assert (probe.pop("count"), probe.pop("failed"), probe.pop("origins")) == (3, 1, ["controller"])
    assert probe == pytest.approx({"min_s": 0.01, "median_s": 0.02, "max_s": 0.03})
    assert s["probes"]["cli probe"]["origins"][0].startswith("proc-")
    assert s["facts"]["cluster version"] == "v1.34.4"
    phases = {p["name"]: p for p in s["phases"]}
    assert phases["vagrant up"]["attrs"] == {"nodes": 4, "ok": True}
    assert phases["test_demo.py"]["kind"] == "suite"
    assert set(s["tests"][0]) >= {"nodeid", "outcome", "duration_s", "reruns"}

    html = (run_dir / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.index("test_demo.py::test_breaks") < html.index("<svg") < html.index("Probe latencies")
    assert 'href="attachments/' in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_passing_run_has_passed_verdict(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_a():\n    pass\n")
    pytester.runpytest("--reports-dir", "out").assert_outcomes(passed=1)
    [run_dir] = [p for p in (pytester.path / "out").iterdir() if p.is_dir() and not p.is_symlink()]
    s = _summary(run_dir)
    assert (s["verdict"], s["exitstatus"], s["counts"]["passed"], s["failures"]) == ("passed", 0, 1, [])
    assert (run_dir / "junit.xml").is_file()


def test_user_junitxml_is_respected(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_a():\n    pass\n")
    pytester.runpytest("--junitxml=mine.xml").assert_outcomes(passed=1)
    assert (pytester.path / "mine.xml").is_file()
    assert not (_run_dir(pytester) / "junit.xml").exists()


RERUNS = """
import pytest
from _pytest.runner import runtestprotocol

# What pytest-rerunfailures does: failed attempts are reported with outcome "rerun".
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for attempt in range(3):
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        retry = attempt < 2 and any(r.failed for r in reports)
        for r in reports:
            if retry and r.failed:
                r.outcome = "rerun"
            item.ihook.pytest_runtest_logreport(report=r)
        if not retry:
            break
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True

def pytest_report_teststatus(report):
    if report.outcome == "rerun":
        return "rerun", "R", "RERUN"
"""


def test_reruns_are_counted_and_shown(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST + RERUNS)
    pytester.makepyfile(
        """
        ATTEMPTS = []
        def test_flaky():
            ATTEMPTS.append(1)
            assert len(ATTEMPTS) == 3, f"attempt {len(ATTEMPTS)} hit a stale endpoint"
        def test_always_broken():
            assert False, "never works"
        """
    )
    pytester.runpytest()
    s = _summary(_run_dir(pytester))
    assert (s["verdict"], s["counts"]["reruns"], s["counts"]["flaky"]) == ("failed", 4, 1)
    tests = {t["nodeid"].split("::")[1]: t for t in s["tests"]}
    assert (tests["test_flaky"]["outcome"], tests["test_flaky"]["reruns"]) == ("passed", 2)
    assert (tests["test_always_broken"]["outcome"], tests["test_always_broken"]["reruns"]) == ("failed", 2)
    html = (_run_dir(pytester) / "report.html").read_text()
    assert "Passed only after reruns (1)" in html and "attempt 1 hit a stale endpoint" in html


def test_xdist_workers_records_are_merged(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        import os, time, pytest, kubegate.report

        @pytest.mark.parametrize("i", range(8))
        def test_probe(i):
            time.sleep(0.05)  # long enough that both workers get work
            kubegate.report.current().record_probe("msg externalIP", 0.001 * (i + 1), True)
        """
    )
    result = pytester.runpytest("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)
    run_dir = _run_dir(pytester)
    s = _summary(run_dir)
    probe = s["probes"]["msg externalIP"]
    assert (probe["count"], probe["origins"]) == (8, ["gw0", "gw1"])
    assert probe["max_s"] == pytest.approx(0.008)
    assert {t["worker"] for t in s["tests"]} == {"gw0", "gw1"}
    assert {p.name for p in (run_dir / "parts").iterdir()} >= {"controller.jsonl", "gw0.jsonl", "gw1.jsonl"}
    assert [p["origin"] for p in s["phases"] if p["name"] == "vagrant up"].count("gw0") == 1


def test_latest_points_at_newest_run(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_a():\n    pass\n")
    pytester.runpytest()
    pytester.runpytest()
    runs = [p for p in (pytester.path / "reports").iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) == 2
    newest = max(runs, key=lambda p: json.loads((p / "run.json").read_text())["started"])
    assert os.readlink(pytester.path / "reports" / "latest") == newest.name


def test_older_run_finishing_last_does_not_take_latest(tmp_path: Path) -> None:
    older, newer = Run.create(tmp_path), Run.create(tmp_path)  # same second: ids do not order them
    newer.mark_latest()
    older.mark_latest()
    assert os.readlink(tmp_path / "latest") == newer.run_id


def test_run_without_pytest_records_failed_phase(tmp_path: Path) -> None:
    run = Run.create(tmp_path / "reports")
    with pytest.raises(RuntimeError), run.phase("vagrant up"):
        raise RuntimeError("minion-2 did not boot")
    published = publish(run, TestResults(), exitstatus=0)
    [phase] = [p for p in published.summary["phases"] if p["name"] == "vagrant up"]
    assert phase["attrs"] == {"ok": False, "error": "RuntimeError: minion-2 did not boot"}
    assert published.summary["verdict"] == "error"  # nothing ran: a gate must not pass
    assert "vagrant up" in published.html_path.read_text()


def test_null_recorder_accepts_everything() -> None:
    null = NullRecorder()
    with null.phase("deploy") as attrs:
        attrs["pods"] = 3
    null.record_probe("x", 0.1, True)
    null.add_fact("k", "v")
    null.attach("n", "/nonexistent", "label")


SKIPPY = """
import pytest

@pytest.mark.smoke
def test_gate_a():
    pytest.skip("no client image for this cluster")

@pytest.mark.smoke
@pytest.mark.parametrize("node", ["n1", "n2"])
def test_gate_b(node):
    pytest.skip("node gone")

def test_other():
    pytest.skip("not applicable here")
"""


def test_run_of_skips_only_is_incomplete_with_its_own_exit_status(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_skippy=SKIPPY)
    result = pytester.runpytest()
    assert result.ret == 6
    result.stdout.fnmatch_lines([
        "verdict: INCOMPLETE*0 passed*4 skipped*exit status 6",
        "incomplete: no check ran: all 4 selected tests were skipped",
        "incomplete: 3 smoke tests skipped*",
        "smoke tests skipped (3):",
        "  - test_skippy.py::test_gate_a: no client image for this cluster",
        "other tests skipped (1):",
    ])
    s = _summary(_run_dir(pytester))
    assert (s["verdict"], s["exitstatus"]) == ("incomplete", 6)
    assert [k["nodeid"] for k in s["skips"] if k["smoke"]] == [
        "test_skippy.py::test_gate_a", "test_skippy.py::test_gate_b[n1]", "test_skippy.py::test_gate_b[n2]"]
    html = (_run_dir(pytester) / "report.html").read_text()
    assert html.index("Incomplete:") < html.index("Failures")


def test_skipped_smoke_test_blocks_the_gate_even_when_others_pass(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_skippy=SKIPPY + "\ndef test_real():\n    assert True\n")
    result = pytester.runpytest("-m", "smoke or not smoke")
    assert result.ret == 6
    s = _summary(_run_dir(pytester))
    assert s["verdict"] == "incomplete" and s["incomplete"] == [
        "3 smoke tests skipped (the release gate must run whole; accept named skips with --accept-skip)"]


def test_accepted_skips_pass_but_stay_listed(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_skippy=SKIPPY + "\ndef test_real():\n    assert True\n")
    result = pytester.runpytest("--accept-skip", "test_skippy.py::test_gate_b",
                                "--accept-skip", "*::test_gate_a")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["verdict: PASSED*1 passed*4 skipped*", "skips accepted with --accept-skip (3):"])
    s = _summary(_run_dir(pytester))
    assert s["verdict"] == "passed" and s["incomplete"] == []
    assert sorted(k["accepted"] for k in s["skips"]) == [False, True, True, True]


def test_no_test_selected_is_incomplete_not_passed(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_a():\n    pass\n")
    result = pytester.runpytest("-m", "smoke")
    assert result.ret == 6
    s = _summary(_run_dir(pytester))
    assert (s["verdict"], s["incomplete"]) == ("incomplete", ["no check ran: no test was selected"])


def test_golden_update_run_is_updated_never_passed(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_a():\n    pass\n")
    result = pytester.runpytest("--update-golden")
    assert result.ret == 7
    result.stdout.fnmatch_lines(["verdict: UPDATED*1 passed*exit status 7", "updated: golden files were rewritten*"])
    assert "PASSED" not in result.stdout.str().split("kubegate report")[-1]
    s = _summary(_run_dir(pytester))
    assert (s["verdict"], s["exitstatus"], s["golden_updated"]) == ("updated", 7, True)


SMOKES = """
import pytest

@pytest.mark.smoke
@pytest.mark.parametrize("i", range(3))
def test_gate(i):
    pass

@pytest.mark.smoke
def test_other_gate():
    pass

def test_not_gate():
    pass
"""


def test_partial_smoke_selection_is_named_and_gate_makes_it_incomplete(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_smokes=SMOKES)
    result = pytester.runpytest("-k", "test_gate")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["verdict: PASSED*3 passed*smoke 3/4  exit status 0"])
    assert _summary(_run_dir(pytester))["smoke"]["label"] == "smoke 3/4"

    result = pytester.runpytest("-k", "test_gate", "--gate")
    assert result.ret == 6
    result.stdout.fnmatch_lines(["verdict: INCOMPLETE*smoke 3/4*", "incomplete: --gate: smoke 3/4 selected*"])


def test_whole_smoke_set_is_not_flagged_but_a_file_argument_is(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_smokes=SMOKES)
    result = pytester.runpytest("--gate", "-m", "smoke")
    assert result.ret == 0, result.stdout.str()
    s = _summary(pytester.path / "reports" / "latest")
    assert (s["verdict"], s["smoke"]["label"]) == ("passed", "")

    result = pytester.runpytest("--gate", "test_smokes.py::test_other_gate")
    assert result.ret == 6
    result.stdout.fnmatch_lines(["incomplete: --gate: smoke 1/1 of test_smokes.py::test_other_gate selected*"])


def test_upstream_spec_skipped_by_e2e_is_incomplete_unless_accepted(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_up="""
import pytest

@pytest.mark.upstream
@pytest.mark.parametrize("spec", ["a", "b"])
def test_upstream_spec(spec):
    if spec == "b":
        pytest.skip("upstream skipped it: Only supported for providers [gce]")
""")
    result = pytester.runpytest()
    assert result.ret == 6
    result.stdout.fnmatch_lines(["incomplete: 1 upstream spec skipped, so not judged*"])
    assert pytester.runpytest("--accept-skip", "test_up.py::test_upstream_spec[[]b[]]").ret == 0


NODES = """
import kubegate.report
from kubegate.report.summary import NODES_LEFT_OUT_FACT

def test_every_node():
    kubegate.report.current().add_fact(NODES_LEFT_OUT_FACT, [{"name": "worker-2", "reason": "cordoned"}])
"""


def test_worker_left_out_of_every_node_is_incomplete_unless_accepted_by_name(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_nodes=NODES)
    result = pytester.runpytest()
    assert result.ret == 6
    result.stdout.fnmatch_lines(["incomplete: per-node tests left out worker node worker-2 (cordoned)*--accept-node*"])
    result = pytester.runpytest("--accept-node", "worker-2")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["node left out, accepted with --accept-node: worker-2 (cordoned)"])
    assert _summary(pytester.path / "reports" / "latest")["nodes_left_out"] == [
        {"name": "worker-2", "reason": "cordoned", "accepted": True}]


REPAIRED = """
import time
import pytest
import kubegate.report

@pytest.fixture(scope="session", autouse=True)
def cluster():
    now = time.time()
    kubegate.report.current().record_phase("node units", now, now + 0.5, ok=True, note="restarted kubelet on minion-2",
                                           repaired=["kubelet on minion-2: stopped, restarted"])
"""


def test_repairs_are_listed_and_fail_on_repair_makes_them_an_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["kubegate.pytest.report"]\n' + REPAIRED)
    pytester.makepyfile("def test_a():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == 0
    result.stdout.fnmatch_lines(["repaired by node units: kubelet on minion-2: stopped, restarted"])
    s = _summary(pytester.path / "reports" / "latest")
    assert s["repaired"] == [{"phase": "node units", "what": "kubelet on minion-2: stopped, restarted"}]
    result = pytester.runpytest("--fail-on-repair")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["verdict: ERROR*", "repaired by node units: *(--fail-on-repair: an ERROR)"])


def test_one_run_one_id_for_its_objects_and_its_report_folder(pytestconfig: pytest.Config, kubegate_run: Run) -> None:
    """This very session: kubegate's settings label namespaces, markers and test data with their
    run id, and the report folder must carry the same one (`kubegate sweep --run <id>` of the id
    the report shows; upstream's attachments in the run's own folder). They used to differ."""
    from kubegate.pytest.settings import settings_key
    assert pytestconfig.stash[settings_key].run_id == kubegate_run.run_id == kubegate_run.dir.name


def test_a_wanted_run_id_already_taken_gets_a_fresh_one(tmp_path: Path) -> None:
    first = Run.create(tmp_path, run_id="20990101-000000-abcd")
    assert first.run_id == "20990101-000000-abcd"
    second = Run.create(tmp_path, run_id="20990101-000000-abcd")
    assert second.run_id != first.run_id and second.dir.is_dir()
