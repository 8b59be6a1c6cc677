"""summary.json: the machine-readable verdict of a run, and the single input of report.html.

The HTML is rendered from this dict and nothing else, so what a person sees and what CI
tooling parses can never disagree, and an archived summary.json can be re-rendered.
"""

from __future__ import annotations

import fnmatch
import json
import os
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubegate.report.records import PhaseRecord, ProbeRecord, Records
from kubegate.report.results import SEVERITY, TestResults
from kubegate.report.run import Run

SCHEMA_VERSION = 1
#: the fact naming the Kubernetes server a run judged (providers' facts())
SERVER_FACT = "server version"
#: facts shown beside the verdict, not only in the facts table: an unsupported minor, a
#: deprecated mechanism the verdict relies on
NOTICE_FACTS = ("server version support", "publicIPs")
#: The fact kubegate.pytest.abort records when a shared set-up failed and the run stopped.
ABORTED_FACT = "aborted"
#: facts the plugin records at collection (kubegate.pytest.report, kubegate.pytest.plugin): the
#: smoke set the session collected before -m/-k and which of it was selected; the worker nodes
#: "every node" left out, and the nodes out of its scope (control plane)
SMOKE_FACT = "smoke selection"
NODES_LEFT_OUT_FACT = "nodes left out"
NODES_OUT_OF_SCOPE_FACT = "nodes out of scope"
SUMMARY_FILE = "summary.json"


#: pytest's exit codes (pytest.ExitCode) that the verdict reads, and the one it adds: pytest's
#: own stop at 5; a run whose checks did not all run exits with 6.
EXIT_OK, EXIT_NO_TESTS = 0, 5
INCOMPLETE_EXIT = 6
#: a run that rewrote golden files instead of comparing with them judged nothing it rewrote
UPDATED_EXIT = 7
#: outcomes in which a check really executed (a skip is none, whatever its reason)
EXECUTED = ("passed", "failed", "error", "xfailed", "xpassed")


@dataclass(frozen=True)
class Asked:
    """What the user told the verdict: skips and left-out nodes accepted by name, the release
    gate's stricter reading (`--gate`), and a golden-file update run (`--update-golden`)."""

    accepted_skips: Sequence[str] = ()
    accepted_nodes: Sequence[str] = ()
    gate: bool = False
    updated_golden: bool = False
    fail_on_repair: bool = False
    flaky_blocks: bool = False  # a pass only after reruns fails the run (default: listed first, not blocking)


def accepts(nodeid: str, patterns: Sequence[str]) -> bool:
    """Whether a user accepted this test's skip (``--accept-skip``): a node id, a node id
    without its ``[params]`` (every parametrization), or an fnmatch glob over node ids."""
    return any(nodeid == p or nodeid.startswith(p + "[") or fnmatch.fnmatchcase(nodeid, p) for p in patterns)


def skip_entries(results: TestResults, accepted: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Every skip, smoke ones first: what a reader must see before trusting a green run."""
    skips = [
        {"nodeid": t.nodeid, "reason": t.reason, "smoke": t.smoke, "upstream": t.upstream,
         "accepted": accepts(t.nodeid, accepted)}
        for t in results.tests
        if t.outcome == "skipped"
    ]
    return sorted(skips, key=lambda s: (not s["smoke"], not s["upstream"], s["accepted"], s["nodeid"]))


def smoke_selection(facts: dict[str, Any]) -> dict[str, Any] | None:
    """{selected, collected, narrowed}: how much of the smoke set this run selected, from the
    plugin's collection facts; None when nothing recorded it (a run outside pytest)."""
    fact = facts.get(SMOKE_FACT)
    return dict(fact) if isinstance(fact, dict) else None


def smoke_label(sel: dict[str, Any] | None) -> str:
    """`smoke 4/28` for a partial smoke selection, '' for a whole one (or none recorded)."""
    if not sel or not sel.get("collected"):
        return ""
    partial = sel["selected"] < sel["collected"] or sel.get("narrowed")
    if not partial:
        return ""
    scope = f" of {', '.join(sel['narrowed'])}" if sel.get("narrowed") else ""
    return f"smoke {sel['selected']}/{sel['collected']}{scope}"


def left_out_nodes(facts: dict[str, Any], accepted: Sequence[str]) -> list[dict[str, Any]]:
    """Worker nodes per-node tests did not cover, each marked accepted or not (`--accept-node`)."""
    return [{**n, "accepted": n["name"] in accepted} for n in facts.get(NODES_LEFT_OUT_FACT) or []]


def repairs(records: Records) -> list[dict[str, str]]:
    """What the bring-up found broken and fixed (a phase's `repaired`): {phase, what}."""
    return [{"phase": p.name, "what": str(what)} for p in records.phases for what in p.attrs.get("repaired") or []]


def incomplete_reasons(counts: dict[str, int], skips: list[dict[str, Any]],
                       left_out: Sequence[dict[str, Any]] = (), smoke: dict[str, Any] | None = None,
                       gate: bool = False) -> list[str]:
    """Why a run that failed nothing still cannot vouch for the cluster: no check executed, the
    release gate (smoke) was not run whole, an upstream spec was skipped by e2e.test, a worker
    node was left out of "every node", or (`--gate`) only part of the smoke set was selected.
    Accepted skips and nodes are listed, never blocking."""
    reasons: list[str] = []
    if not sum(counts.get(k, 0) for k in EXECUTED):
        skipped = counts.get("skipped", 0)
        reasons.append("no check ran" + (f": all {skipped} selected tests were skipped" if skipped else
                                          ": no test was selected"))
    blocking = [s for s in skips if s["smoke"] and not s["accepted"]]
    if blocking:
        reasons.append(f"{len(blocking)} smoke test{'s' * (len(blocking) != 1)} skipped "
                       "(the release gate must run whole; accept named skips with --accept-skip)")
    upstream = [s for s in skips if s.get("upstream") and not s["smoke"] and not s["accepted"]]
    if upstream:
        reasons.append(f"{len(upstream)} upstream spec{'s' * (len(upstream) != 1)} skipped, so not judged "
                       "(accept named skips with --accept-skip)")
    nodes = [n for n in left_out if not n["accepted"]]
    if nodes:
        reasons.append("per-node tests left out worker node" + "s" * (len(nodes) != 1) + " "
                       + ", ".join(f"{n['name']} ({n['reason']})" for n in nodes)
                       + " (make it Ready and schedulable, or accept it with --accept-node NAME)")
    label = smoke_label(smoke)
    if gate and label:
        reasons.append(f"--gate: {label} selected (the release gate runs the whole smoke set: no -k, no -m "
                       "narrower than smoke, no single files)")
    return reasons


def verdict(counts: dict[str, int], exitstatus: int, incomplete: Sequence[str] = (), failed_phases: int = 0,
            aborted: bool = False, updated: bool = False, flaky_blocks: bool = False) -> str:
    """``failed``: a test failed, so something under test is broken. ``error``: no test
    failed but something kept the run from judging (setup/teardown or collection errors, a
    failed bring-up phase, an interrupted run, pytest's own errors). ``incomplete``: nothing
    broke, but not every check that was asked for ran (see incomplete_reasons). ``passed``
    only when checks ran and passed. A failure outranks errors because it is the more
    specific, actionable finding; a run stopped by a failed set-up (``aborted``) is an error
    whatever ran before it. ``updated``: golden files were rewritten from this run's output, so
    the comparisons it would have judged were not made; never ``passed``."""
    if aborted:
        return "error"
    if counts.get("failed", 0) or (flaky_blocks and counts.get("flaky", 0)):
        return "failed"
    if counts.get("error", 0) or counts.get("collection_errors", 0) or counts.get("pending", 0) or failed_phases:
        return "error"
    if exitstatus not in (EXIT_OK, EXIT_NO_TESTS):
        return "error"
    if updated:
        return "updated"
    if incomplete or counts.get("total", 0) == 0 or exitstatus == EXIT_NO_TESTS:
        return "incomplete"
    return "passed"


def group_causes(failures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failures that share a triaged cause, biggest group first: two failures with one cause
    are one problem, and the report should read that way."""
    groups: dict[str, list[str]] = defaultdict(list)
    for f in failures:
        if f.get("cause"):
            groups[f["cause"]].append(f["nodeid"])
    return [{"cause": c, "tests": t} for c, t in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def final_exitstatus(verdict_: str, exitstatus: int) -> int:
    """An incomplete or golden-update run must fail a CI job, each with a status distinct from
    "tests failed" (1)."""
    if verdict_ == "incomplete" and exitstatus in (EXIT_OK, EXIT_NO_TESTS):
        return INCOMPLETE_EXIT
    if verdict_ == "updated" and exitstatus in (EXIT_OK, EXIT_NO_TESTS):
        return UPDATED_EXIT
    if verdict_ == "failed" and exitstatus == EXIT_OK:
        return 1  # a failure pytest did not count as one: a flaky test under --flaky-blocks
    if verdict_ == "error" and exitstatus in (EXIT_OK, EXIT_NO_TESTS):
        return 1  # an error pytest did not see (a failed bring-up phase, a refused repair): as its setup errors
    return int(exitstatus)


def probe_stats(probes: list[ProbeRecord]) -> dict[str, dict[str, Any]]:
    """Latencies of failed probes are included (a timeout is a latency worth seeing) and
    failures counted, so a fast median cannot hide a probe that mostly failed."""
    by_name: dict[str, list[ProbeRecord]] = defaultdict(list)
    for probe in probes:
        by_name[probe.name].append(probe)
    stats: dict[str, dict[str, Any]] = {}
    for name in sorted(by_name):
        latencies = [p.latency_s for p in by_name[name]]
        stats[name] = {
            "count": len(latencies),
            "failed": sum(1 for p in by_name[name] if not p.ok),
            "min_s": min(latencies),
            "median_s": statistics.median(latencies),
            "max_s": max(latencies),
            "origins": sorted({p.origin for p in by_name[name]}),
        }
    return stats


def _phase_dict(phase: PhaseRecord, run_started: float, kind: str) -> dict[str, Any]:
    return {
        "name": phase.name,
        "kind": kind,
        "origin": phase.origin,
        "started": phase.started,
        "ended": phase.ended,
        "offset_s": round(phase.started - run_started, 6),
        "duration_s": round(phase.duration_s, 6),
        "attrs": phase.attrs,
    }


def _phases(run: Run, records: Records, results: TestResults, finished: float) -> list[dict[str, Any]]:
    """Recorded phases plus one derived phase per suite (test file) spanning its first test
    body to its last teardown, so where the test time went is on the same timeline as
    bring-up (which would otherwise be counted again inside the first test's setup)."""
    phases = [_phase_dict(p, run.started, "phase") for p in records.phases]
    spans: dict[str, tuple[float, float]] = {}
    for test in results.tests:
        first = test.body_started if test.body_started is not None else test.started
        if first is None or test.stopped is None:
            continue
        lo, hi = spans.get(test.suite, (first, test.stopped))
        spans[test.suite] = (min(lo, first), max(hi, test.stopped))
    for suite, (lo, hi) in spans.items():
        phases.append(_phase_dict(PhaseRecord(suite, lo, hi, "pytest"), run.started, "suite"))
    phases.append(_phase_dict(PhaseRecord("session", run.started, finished, "pytest"), run.started, "session"))
    phases.sort(key=lambda p: (p["kind"] == "session", p["started"], p["ended"]))
    return phases


def _attachment_dicts(records: Records, nodeid: str) -> list[dict[str, Any]]:
    """One entry per path: a rerun attempt that rewrites the same diagnostics file must not
    list it twice. The latest label wins."""
    by_path = {
        a.path: {"label": a.label, "path": a.path, "missing": a.missing} for a in records.attachments_for(nodeid)
    }
    return list(by_path.values())


def build_summary(
    run: Run, results: TestResults, exitstatus: int, finished: float, junit: str | None = None,
    asked: Asked | None = None, collected: int | None = None,
) -> dict[str, Any]:
    asked = asked or Asked()
    records = run.records()
    counts = results.counts()
    skips = skip_entries(results, asked.accepted_skips)
    left_out = left_out_nodes(records.facts, asked.accepted_nodes)
    smoke = smoke_selection(records.facts)
    incomplete = incomplete_reasons(counts, skips, left_out, smoke, asked.gate)
    failed_phases = sum(1 for p in records.phases if p.attrs.get("ok") is False)
    repaired = repairs(records)
    if asked.fail_on_repair and repaired:
        failed_phases += 1  # the user counts the rig's health as part of the verdict: an error
    aborted = records.facts.get(ABORTED_FACT) or None
    outcome = verdict(counts, exitstatus, incomplete, failed_phases, aborted=aborted is not None,
                      updated=asked.updated_golden, flaky_blocks=asked.flaky_blocks)
    finished_tests = sum(1 for t in results.tests if t.outcome != "pending")
    rank = {name: i for i, name in enumerate(SEVERITY)}
    tests = []
    for test in sorted(results.tests, key=lambda t: (rank.get(t.outcome, 0), t.nodeid)):
        tests.append({**test.to_dict(), "attachments": _attachment_dicts(records, test.nodeid)})
    failures: list[dict[str, Any]] = [
        {
            "nodeid": e.nodeid or "(collection)",
            "outcome": "collection error",
            "when": "collect",
            "headline": e.headline,
            "longrepr": e.longrepr,
            "sections": [],
            "reruns": 0,
            "rerun_errors": [],
            "attachments": _attachment_dicts(records, e.nodeid),
        }
        for e in results.collection_errors
    ]
    # In the order they happened: the first failure is usually the cause of the rest.
    for test in sorted(
        (t for t in results.tests if t.outcome in ("failed", "error")), key=lambda t: (t.stopped or 0.0, t.nodeid)
    ):
        failures.append(
            {
                "nodeid": test.nodeid,
                "outcome": test.outcome,
                "cause": test.cause,
                "when": test.when,
                "headline": test.headline,
                "longrepr": test.longrepr,
                "sections": [list(s) for s in test.sections],
                "reruns": test.reruns,
                "rerun_errors": test.rerun_errors,
                "worker": test.worker,
                "attachments": _attachment_dicts(records, test.nodeid),
            }
        )
    flaky = [
        {"nodeid": t.nodeid, "outcome": t.outcome, "reruns": t.reruns, "rerun_errors": t.rerun_errors}
        for t in results.tests
        if t.reruns
    ]
    return {
        "schema": SCHEMA_VERSION,
        "run_id": run.run_id,
        "started": run.started,
        "finished": finished,
        "duration_s": round(finished - run.started, 3),
        "verdict": outcome,
        "exitstatus": final_exitstatus(outcome, exitstatus),
        "incomplete": incomplete if outcome == "incomplete" else [],
        "aborted": aborted,  # {stage, cause, log}: a set-up every test needed failed (kubegate.pytest.abort)
        "not_run": max(0, collected - finished_tests) if collected is not None else None,
        "counts": counts,
        "skips": skips,
        "accepted_skip_patterns": list(asked.accepted_skips),
        "smoke": {**smoke, "label": smoke_label(smoke)} if smoke else None,
        "gate": asked.gate,
        "golden_updated": asked.updated_golden,
        "nodes_left_out": left_out,
        "repaired": repaired,
        "fail_on_repair": asked.fail_on_repair,
        "flaky_blocks": asked.flaky_blocks,
        "nodes_out_of_scope": records.facts.get(NODES_OUT_OF_SCOPE_FACT) or [],
        "failures": failures,
        "causes": group_causes(failures),
        "reruns": flaky,
        "tests": tests,
        "phases": _phases(run, records, results, finished),
        "probes": probe_stats(records.probes),
        "facts": records.facts,
        # what the verdict is about, and what a reader must not miss beside it (facts of those names)
        "server_version": records.facts.get(SERVER_FACT),
        "notices": [str(records.facts[k]) for k in NOTICE_FACTS if k in records.facts],
        "attachments": _attachment_dicts(records, ""),
        "junit": junit,
        "unreadable_records": records.unreadable_lines,
    }


def write_summary(run_dir: Path, summary: dict[str, Any]) -> Path:
    path = run_dir / SUMMARY_FILE
    tmp = path.with_name(f".{SUMMARY_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
