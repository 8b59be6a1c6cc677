"""Turns pytest's stream of per-phase reports into one final outcome per test.

pytest reports setup, call and teardown separately and, with pytest-rerunfailures, repeats
them per attempt with a ``rerun`` outcome for the discarded attempts. A report reader wants
one line per test: what finally happened, how long it took in total, and how many times it
was retried. Reruns are counted and their errors kept, because a test that only passes on
the third try is news for a release gate, not noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only pytest's report types; the report package runs without pytest
    import pytest

MAX_TEXT = 50_000  # keep summary.json loadable when a traceback dumps a whole manifest

# Worst first: the order failures and the tests table are shown in.
SEVERITY = ("error", "failed", "xpassed", "passed", "xfailed", "skipped", "pending")


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... [{len(text) - limit} more characters]"


def _headline(report: pytest.TestReport | pytest.CollectReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    lines = [line for line in str(message or "").splitlines() if line.strip()]
    if lines:
        return lines[0]
    lines = [line for line in report.longreprtext.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@dataclass
class TestOutcome:
    __test__ = False  # not a test class, despite the name

    nodeid: str
    outcome: str = "pending"
    when: str | None = None  # the phase that decided a failed/error outcome
    duration_s: float = 0.0  # all phases of all attempts: the time the test really cost
    started: float | None = None
    # When the first attempt's test body began: unlike ``started`` this excludes session
    # fixtures (cluster bring-up) that pytest runs inside the first test's setup.
    body_started: float | None = None
    stopped: float | None = None
    reruns: int = 0
    worker: str | None = None
    headline: str = ""
    longrepr: str = ""
    reason: str = ""  # skip / xfail reason
    smoke: bool = False  # marked `smoke`: part of the release gate, whose skips make a run incomplete
    upstream: bool = False  # marked `upstream`: a spec e2e.test skipped is no verdict either
    cause: str = ""  # the first broken hop triage found on the failing test's path
    sections: list[tuple[str, str]] = field(default_factory=list)
    rerun_errors: list[str] = field(default_factory=list)

    @property
    def suite(self) -> str:
        return self.nodeid.split("::", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "suite": self.suite,
            "outcome": self.outcome,
            "when": self.when,
            "duration_s": round(self.duration_s, 6),
            "started": self.started,
            "stopped": self.stopped,
            "reruns": self.reruns,
            "worker": self.worker,
            "headline": self.headline,
            "reason": self.reason,
            "smoke": self.smoke,
            "upstream": self.upstream,
            "cause": self.cause,
        }


@dataclass
class CollectionError:
    nodeid: str
    headline: str
    longrepr: str


class TestResults:
    __test__ = False

    def __init__(self) -> None:
        self._tests: dict[str, TestOutcome] = {}
        self.collection_errors: list[CollectionError] = []

    @property
    def tests(self) -> list[TestOutcome]:
        return list(self._tests.values())

    def add_collect_report(self, report: pytest.CollectReport) -> None:
        if not report.failed or any(e.nodeid == report.nodeid for e in self.collection_errors):
            return  # every xdist worker collects, so the same error can arrive once per worker
        self.collection_errors.append(CollectionError(report.nodeid, _headline(report), _clip(report.longreprtext)))

    def add_report(self, report: pytest.TestReport) -> None:
        test = self._tests.setdefault(report.nodeid, TestOutcome(report.nodeid))
        test.smoke = test.smoke or "smoke" in (report.keywords or {})
        test.upstream = test.upstream or "upstream" in (report.keywords or {})
        test.duration_s += float(report.duration or 0.0)
        start, stop = getattr(report, "start", None), getattr(report, "stop", None)
        if start is not None:
            test.started = start if test.started is None else min(test.started, start)
        if stop is not None:
            test.stopped = stop if test.stopped is None else max(test.stopped, stop)
        test.worker = getattr(report, "worker_id", None) or test.worker
        if report.when == "call" and start is not None and test.body_started is None:
            test.body_started = start

        outcome: str = report.outcome  # typed as passed/failed/skipped, but plugins add more
        if outcome == "rerun":  # pytest-rerunfailures: this attempt is discarded
            test.reruns += 1
            test.rerun_errors.append(_clip(report.longreprtext, 5_000))
            test.outcome, test.when = "pending", None
            return
        if report.when == "setup":
            # A new attempt starts with setup; forget the previous attempt's verdict.
            test.outcome, test.when, test.headline, test.longrepr, test.sections = "pending", None, "", "", []
        if report.when in ("setup", "call"):
            self._apply(test, report)
        elif report.when == "teardown" and report.failed:
            if test.outcome in ("failed", "error"):
                test.longrepr = _clip(f"{test.longrepr}\n\n--- and teardown failed too ---\n\n{report.longreprtext}")
            else:
                self._fail(test, report, "error")

    def _apply(self, test: TestOutcome, report: pytest.TestReport) -> None:
        xfail = getattr(report, "wasxfail", None)
        if report.failed:
            self._fail(test, report, "error" if report.when == "setup" else "failed")
        elif report.skipped:
            test.outcome = "xfailed" if xfail is not None else "skipped"
            longrepr = report.longrepr
            if xfail:
                test.reason = str(xfail)
            elif isinstance(longrepr, tuple) and len(longrepr) == 3:
                test.reason = str(longrepr[2]).removeprefix("Skipped: ")
        elif report.when == "call":
            test.outcome = "xpassed" if xfail is not None else "passed"
            test.reason = str(xfail or "")

    def _fail(self, test: TestOutcome, report: pytest.TestReport, outcome: str) -> None:
        test.outcome, test.when = outcome, report.when
        test.cause = next((str(v) for k, v in report.user_properties if k == "cause"), "")
        test.headline = _headline(report)
        test.longrepr = _clip(report.longreprtext)
        test.sections = [(title, _clip(content, 20_000)) for title, content in report.sections]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITY, 0)  # "pending": started but never finished (interrupted)
        for test in self._tests.values():
            if test.outcome in counts:
                counts[test.outcome] += 1
        counts["total"] = len(self._tests)
        counts["reruns"] = sum(t.reruns for t in self._tests.values())
        counts["flaky"] = sum(1 for t in self._tests.values() if t.reruns and t.outcome in ("passed", "xpassed"))
        counts["collection_errors"] = len(self.collection_errors)
        return counts
