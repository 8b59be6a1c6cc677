"""A failed shared set-up is one error for the run, not one per test (inner pytest sessions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
from pathlib import Path
import pytest
from kubegate.pytest.abort import abort_if_aborted, abort_run
from kubegate.rig.build.proc import BuildFailed

pytest_plugins = ["kubegate.pytest.report"]
MARKER = Path(__file__).parent / "aborted-marker"

@pytest.fixture(scope="session")
def cluster(request):
    abort_if_aborted(request, MARKER)
    exc = BuildFailed("building image client failed at Step 9/18 (RUN npm ci): TypeError: boom "
                      "(in webidl-conversions)", Path("/tmp/image-client.log"))
    abort_run(request, MARKER, "bring-up", exc)
"""

TESTS = """
def test_a(cluster): pass
def test_b(cluster): pass
def test_c(cluster): pass
def test_d(): pass
"""


def _run_dir(pytester: pytest.Pytester) -> Path:
    """The one run folder (reports/ also holds `latest` and history.sqlite, in no set order)."""
    [run_dir] = [p for p in (pytester.path / "reports").iterdir() if p.is_dir() and not p.is_symlink()]
    return run_dir


def _summary(pytester: pytest.Pytester) -> dict[str, object]:
    data: dict[str, object] = json.loads((_run_dir(pytester) / "summary.json").read_text())
    return data


def test_a_failed_bring_up_stops_the_run_with_one_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_demo=TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == 1
    out = result.stdout.str()
    assert out.count("TypeError: boom") == 2  # pytest's own stop line, and the report's error line
    assert "error: bring-up failed: building image client failed at Step 9/18" in out
    assert "4 selected tests did not run; log: /tmp/image-client.log" in out
    s = _summary(pytester)
    assert s["verdict"] == "error"
    assert s["not_run"] == 4
    assert s["aborted"] == {"stage": "bring-up", "log": "/tmp/image-client.log", "cause": (
        "building image client failed at Step 9/18 (RUN npm ci): TypeError: boom (in webidl-conversions); "
        "full log: /tmp/image-client.log")}
    assert "bring-up failed; the run stopped" in (_run_dir(pytester) / "report.html").read_text()


def test_a_later_process_of_the_run_stops_without_trying_again(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeconftest(CONFTEST.replace('    exc = BuildFailed', '    raise AssertionError("tried again")\n'
                                           '    exc = BuildFailed'))
    (pytester.path / "aborted-marker").write_text(json.dumps(
        {"stage": "bring-up", "cause": "an earlier worker's cause", "log": ""}))
    pytester.makepyfile(test_demo=TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == 1
    assert "an earlier worker's cause" in result.stdout.str()
    assert "tried again" not in result.stdout.str()


def test_under_xdist_the_run_stops_with_the_same_one_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_demo=TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-n", "2")
    assert result.ret != 0
    assert "INTERNALERROR" not in result.stdout.str()
    s = _summary(pytester)
    assert s["verdict"] == "error"
    assert s["aborted"]["stage"] == "bring-up"  # type: ignore[index]
    assert s["counts"]["error"] <= 2  # type: ignore[index]  # at most one per worker, not one per test
    assert s["not_run"] >= 2  # type: ignore[operator]
