"""What the last N runs say together: a test x run grid, each test's failure and flip rate, the
news (a new failure, still failing since, flaky), and trends of phases and probe latencies.

Pure reading of the database, so `kubegate history`, its HTML page and report.html's history
strip all tell the same story.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import sqlite3
import statistics
from dataclasses import dataclass, field
from typing import Any

BAD = ("failed", "error")
#: a test whose outcome flips (fails, passes, fails ...) in more than this share of its
#: consecutive run pairs is flaky
FLAKY_FLIP_RATE = 0.2
#: passes in a row before a failure for it to be news ("new failure")
NEW_AFTER_PASSES = 2
#: a phase or probe median this far (in %) from the window's median has moved
TREND_PERCENT = 20
#: phases shorter than this (median, seconds) are listed only when they moved
TREND_MIN_S = 0.1
SYMBOL = {"passed": ".", "failed": "F", "error": "E", "skipped": "s", "flaky": "f", "xfailed": "x",
          "xpassed": "X", None: " "}


@dataclass
class TestHistory:
    __test__ = False

    nodeid: str
    outcomes: list[str | None]  # one per run of the window, oldest first; None: not in that run
    causes: dict[str, str] = field(default_factory=dict)  # run id -> cause line, failures only

    def _ran(self) -> list[str]:
        return [o for o in self.outcomes if o is not None]

    @property
    def failure_rate(self) -> float:
        ran = self._ran()
        return sum(o in BAD for o in ran) / len(ran) if ran else 0.0

    @property
    def flip_rate(self) -> float:
        """Changes between failing (a failure, or a pass only after rerun) and passing, over
        consecutive runs it ran in."""
        bad = [o in BAD or o == "flaky" for o in self._ran()]
        pairs = len(bad) - 1
        return sum(a != b for a, b in itertools.pairwise(bad)) / pairs if pairs > 0 else 0.0

    @property
    def flaky(self) -> bool:
        return "flaky" in self.outcomes or self.flip_rate > FLAKY_FLIP_RATE


@dataclass
class Window:
    runs: list[dict[str, Any]]  # oldest first: run_id, started, verdict, counts, interrupted, ...
    tests: list[TestHistory]
    phases: dict[str, list[float | None]]  # name -> duration per run
    probes: dict[str, list[float | None]]  # name -> median latency per run

    def news(self) -> list[str]:
        """Every new failure in the window (a failure after at least NEW_AFTER_PASSES passes), in
        run order with its cause, then failures still going in the latest run and since when."""
        lines: list[str] = []
        ids = [r["run_id"] for r in self.runs]
        for i, run_id in enumerate(ids):
            for t in self.tests:
                before = [o for o in t.outcomes[:i] if o is not None]
                if t.outcomes[i] in BAD and len(before) >= NEW_AFTER_PASSES and \
                        all(o == "passed" for o in before[-NEW_AFTER_PASSES:]):
                    lines.append(f"new failure in {run_id}: {t.nodeid} after {len(before)} runs: "
                                 f"{t.causes.get(run_id, '')}")
        for t in self.tests:
            streak = 0
            for o in reversed(t.outcomes):
                if o not in BAD:
                    break
                streak += 1
            if streak >= 2 or (streak == 1 and not any(line.startswith(f"new failure in {ids[-1]}: {t.nodeid} ")
                                                     for line in lines)):
                lines.append(f"still failing since {ids[len(ids) - streak]} ({streak} run{'s' * (streak != 1)}): "
                             f"{t.nodeid}: {t.causes.get(ids[-1], '')}")
        flaky = [t for t in self.tests if t.flaky]
        lines += [f"flaky: {t.nodeid}: flip rate {t.flip_rate:.0%}, failed {t.failure_rate:.0%} of its runs"
                  + (", passed only after a rerun in " + ", ".join(ids[i] for i, o in enumerate(t.outcomes)
                                                                   if o == "flaky") if "flaky" in t.outcomes else "")
                  for t in flaky]
        return lines

    def failures_in(self, run_id: str) -> list[tuple[str, str]]:
        """(nodeid, cause) of every test that failed in one run of the window."""
        return [(t.nodeid, t.causes.get(run_id, "")) for t in self.tests if t.causes.get(run_id) is not None]

    def trends(self) -> list[tuple[str, float, float, float]]:
        """(what, latest, window median, change in %) for phases and probe medians with a latest value."""
        out = []
        for kind, series in (("phase", self.phases), ("probe", self.probes)):
            for name, values in sorted(series.items()):
                seen = [v for v in values if v is not None]
                if values and values[-1] is not None and len(seen) >= 2:
                    median = statistics.median(seen)
                    change = (values[-1] - median) / median * 100 if median else 0.0
                    out.append((f"{kind} {name}", values[-1], median, round(change, 1)))
        return out


def load(db: sqlite3.Connection, last: int = 20, pattern: str | None = None) -> Window:
    rows = db.execute("SELECT run_id, started, verdict, counts, interrupted, server_version, revision FROM runs "
                      "ORDER BY started DESC LIMIT ?", (last,)).fetchall()
    runs = [{"run_id": r[0], "started": r[1], "verdict": r[2], "counts": json.loads(r[3]), "interrupted": bool(r[4]),
             "server_version": r[5], "revision": r[6]} for r in reversed(rows)]
    index = {r["run_id"]: i for i, r in enumerate(runs)}
    tests: dict[str, TestHistory] = {}
    marks = ",".join("?" * len(index))
    if index:
        for run_id, nodeid, outcome, cause in db.execute(
                f"SELECT run_id, nodeid, outcome, cause FROM tests WHERE run_id IN ({marks})", list(index)):
            if pattern and not fnmatch.fnmatchcase(nodeid, pattern) and pattern not in nodeid:
                continue
            t = tests.setdefault(nodeid, TestHistory(nodeid, [None] * len(runs)))
            t.outcomes[index[run_id]] = outcome
            if outcome in BAD:
                t.causes[run_id] = cause or ""
    phases = _series(db, "SELECT run_id, name, duration_s FROM phases WHERE run_id IN ({})", index)
    probes = _series(db, "SELECT run_id, name, median_s FROM probes WHERE run_id IN ({})", index)
    return Window(runs, sorted(tests.values(), key=lambda t: t.nodeid), phases, probes)


def _series(db: sqlite3.Connection, query: str, index: dict[str, int]) -> dict[str, list[float | None]]:
    series: dict[str, list[float | None]] = {}
    if not index:
        return series
    for run_id, name, value in db.execute(query.format(",".join("?" * len(index))), list(index)):
        series.setdefault(name, [None] * len(index))[index[run_id]] = float(value)
    return series


def for_report(w: Window, nodeids: set[str]) -> dict[str, Any]:
    """What report.html shows of the history: the runs before this one, the named tests' outcomes
    in them, and the phases' durations (the run's own values are appended by the page)."""
    return {"runs": [r["run_id"] for r in w.runs],
            "tests": {t.nodeid: t.outcomes for t in w.tests if t.nodeid in nodeids},
            "phases": w.phases}


def grid_lines(w: Window) -> list[str]:
    """The terminal view: one column per run (oldest left), then failure and flip rates."""
    out = [f"{len(w.runs)} runs, oldest first: " + " ".join(r["run_id"] for r in w.runs)]
    out.append("verdicts: " + " ".join(("INTERRUPTED" if r["interrupted"] else str(r["verdict"]).upper())
                                       for r in w.runs))
    width = max((len(t.nodeid) for t in w.tests), default=10)
    shown = sorted(w.tests, key=lambda t: (not (t.flaky or t.failure_rate), t.nodeid))
    for t in shown:
        cells = "".join(SYMBOL.get(o, "?") for o in t.outcomes)
        flag = "  flaky" if t.flaky else ""
        out.append(f"{t.nodeid:<{width}}  {cells}  fail {t.failure_rate:4.0%}  flip {t.flip_rate:4.0%}{flag}")
    out.append("legend: . passed  F failed  E error  s skipped  f passed only after rerun  (blank: not run)")
    out += w.news()
    for what, latest, median, change in w.trends():
        if median < TREND_MIN_S and abs(change) < TREND_PERCENT:
            continue  # a few milliseconds either way is noise, not a trend
        moved = "  <- moved" if abs(change) >= TREND_PERCENT else ""
        out.append(f"trend: {what}: {latest:.3f} s in the latest run, window median {median:.3f} s "
                   f"({change:+.0f}%){moved}")
    return out
