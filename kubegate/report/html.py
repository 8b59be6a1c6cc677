"""report.html: the page a release engineer opens first when a gate goes red.

Failures come before everything else, each with its error and links to its diagnostics;
the rest (timeline, probe latencies, all tests, facts) answers "what else was going on".
Self-contained (inline CSS and SVG, no scripts) so it works from a CI artifact or offline,
and links are relative so the run dir can be moved or archived whole. Every value that
came from a test, a cluster or a user is passed through ``html.escape``.
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kubegate.history.page import strip, trend_svg
from kubegate.report import fmt
from kubegate.report.timeline import gantt_svg

HTML_FILE = "report.html"
SEP = " \u00b7 "

CSS = """
:root { --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; --muted:#57606a; --line:#d0d7de; --bg2:#f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; }
main { max-width: 1160px; margin: 0 auto; padding: 0 20px 40px; }
.banner { color: #fff; padding: 18px 20px; margin-bottom: 20px; }
.banner.passed { background: var(--ok); } .banner.failed { background: var(--bad); }
.banner.error, .banner.incomplete, .banner.updated { background: var(--warn); }
.incomplete-box { border: 1px solid var(--line); border-left: 5px solid var(--warn); border-radius: 6px;
                  padding: 10px 14px; margin: 12px 0; }
.banner .inner { max-width: 1120px; margin: 0 auto; }
.banner h1 { margin: 0 0 4px; font-size: 28px; letter-spacing: .5px; }
.banner .meta { opacity: .95; }
.banner a { color: #fff; }
.counts span { display: inline-block; margin-right: 14px; font-weight: 600; }
h2 { font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 28px; }
.failure { border: 1px solid var(--line); border-left: 5px solid var(--bad); border-radius: 6px;
           padding: 10px 14px; margin: 12px 0; background: #fff; }
.failure.error, .failure.collection { border-left-color: var(--warn); }
.failure h3 { margin: 0 0 4px; font-size: 15px; font-family: ui-monospace, Menlo, Consolas, monospace;
              word-break: break-all; }
.headline { color: var(--bad); font-weight: 600; margin: 4px 0 8px; white-space: pre-wrap; word-break: break-word; }
pre { background: var(--bg2); border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px;
      max-height: 360px; overflow: auto; font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; margin: 6px 0; }
details summary { cursor: pointer; color: var(--muted); margin: 4px 0; }
ul.att { margin: 4px 0 6px; padding-left: 20px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg2); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-all; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600;
         color: #fff; background: var(--muted); white-space: nowrap; }
.b-passed { background: var(--ok); } .b-failed { background: var(--bad); } .b-error { background: var(--warn); }
.b-xpassed { background: #bf3989; } .b-skipped, .b-xfailed, .b-pending { background: #8c959f; }
.b-rerun { background: #bc4c00; } .b-collection { background: var(--warn); }
.bad { color: var(--bad); font-weight: 600; } .muted { color: var(--muted); }
.gantt { display: block; max-width: 100%; height: auto; }
.gantt .label { font-size: 12px; text-anchor: end; fill: #1f2328; }
.gantt .dur { font-size: 11px; fill: var(--muted); }
.gantt .tick { font-size: 11px; text-anchor: middle; fill: var(--muted); }
.gantt .grid { stroke: #eaeef2; stroke-width: 1; }
.gantt .zebra { fill: #f6f8fa; }
.legend span { margin-right: 14px; } .legend i { display: inline-block; width: 12px; height: 12px;
  border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _badge(outcome: str) -> str:
    css = "b-" + outcome.split()[0].replace(" ", "-")
    return f'<span class="badge {_e(css)}">{_e(outcome)}</span>'


def _attachments(items: list[dict[str, Any]], *, paths: bool = True) -> str:
    if not items:
        return ""
    rows = []
    for a in items:
        if a.get("missing"):
            rows.append(f'<li>{_e(a["label"])} <span class="muted">(missing: {_e(a["path"])})</span></li>')
        elif not paths:
            rows.append(f'<li><a href="{_e(quote(str(a["path"])))}">{_e(a["label"])}</a></li>')
        else:
            rows.append(
                f'<li><a href="{_e(quote(str(a["path"])))}">{_e(a["label"])}</a> '
                f'<span class="muted">{_e(a["path"])}</span></li>'
            )
    return '<ul class="att">' + "".join(rows) + "</ul>"


def _banner(s: dict[str, Any]) -> str:
    c = s["counts"]
    parts = [
        f"{c.get(k, 0)} {k}"
        for k in ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "pending")
        if c.get(k, 0) or k in ("passed", "failed")
    ]
    parts.append(f"{c.get('reruns', 0)} reruns" + (f" ({c['flaky']} flaky)" if c.get("flaky") else ""))
    if c.get("collection_errors"):
        parts.append(f"{c['collection_errors']} collection errors")
    if (s.get("smoke") or {}).get("label"):
        parts.append(s["smoke"]["label"])
    links = [f'<a href="{_e(name)}">{_e(name)}</a>' for name in ("summary.json", s.get("junit") or "") if name]
    about = f"Kubernetes {_e(s['server_version'])} \u00b7 " if s.get("server_version") else ""
    notes = list(s.get("notices", []))
    notes += [f"repaired by {r['phase']}: {r['what']}" for r in s.get("repaired", [])]
    if s.get("golden_updated"):
        notes.insert(0, "golden files were rewritten from this run's output, not compared with it")
    notes += [f"per-node tests left out {n['name']} ({n['reason']}), accepted with --accept-node"
              for n in s.get("nodes_left_out", []) if n["accepted"]]
    if s.get("nodes_out_of_scope"):
        notes.append("out of scope of per-node tests: "
                     + ", ".join(f"{n['name']} ({n['reason']})" for n in s["nodes_out_of_scope"]))
    notices = "".join(f'<div class="meta notice">{_e(n)}</div>' for n in notes)
    return (
        f'<header class="banner {_e(s["verdict"])}"><div class="inner">'
        f"<h1>{_e(s['verdict'].upper())}</h1>"
        f'<div class="counts">{"".join(f"<span>{_e(p)}</span>" for p in parts)}</div>'
        f'<div class="meta">{about}run {_e(s["run_id"])} \u00b7 started {_e(fmt.timestamp(s["started"]))} \u00b7 '
        f"took {_e(fmt.duration(s['duration_s']))} \u00b7 exit status {_e(s['exitstatus'])} \u00b7 "
        f"{SEP.join(links)}</div>{notices}"
        f"</div></header>"
    )


def _aborted(s: dict[str, Any]) -> str:
    """A run stopped by a failed set-up: its cause first, and how much was never judged."""
    a = s.get("aborted")
    if not a:
        return ""
    log = f"<p>log: <code>{_e(a['log'])}</code></p>" if a.get("log") else ""
    not_run = s.get("not_run")
    counted = f"<p>{_e(not_run)} selected tests did not run.</p>" if not_run is not None else ""
    return (f'<div class="incomplete-box"><strong>{_e(a["stage"])} failed; the run stopped:</strong>'
            f"<p>{_e(a['cause'])}</p>{log}{counted}</div>")


def _gated(skip: dict[str, Any]) -> bool:
    return bool(skip["smoke"] or skip.get("upstream"))


def _skips(s: dict[str, Any]) -> str:
    """What did not run comes first: a green-looking page that checked nothing is the trap."""
    skips = s.get("skips", [])
    reasons = s.get("incomplete", [])
    if not skips and not reasons:
        return ""
    out = []
    if reasons:
        out.append('<div class="incomplete-box"><strong>Incomplete:</strong><ul>'
                   + "".join(f"<li>{_e(r)}</li>" for r in reasons) + "</ul></div>")
    if skips:
        rows = "".join(
            f'<tr><td class="id">{_e(k["nodeid"])}</td>'
            f'<td>{"smoke" if k["smoke"] else ("upstream" if k.get("upstream") else "")}</td>'
            f'<td>{"accepted" if k["accepted"] else ("blocks the gate" if _gated(k) else "allowed")}</td>'
            f"<td>{_e(k['reason'])}</td></tr>"
            for k in skips
        )
        out.append(f"<h2>Skipped ({len(skips)})</h2><table><tr><th>test</th><th>gate</th><th>counts as</th>"
                   f"<th>why</th></tr>{rows}</table>")
    return "\n".join(out)


def _failures(s: dict[str, Any]) -> str:
    failures = s["failures"]
    if not failures:
        return "<h2>Failures</h2><p>None.</p>"
    out = [f"<h2>Failures ({len(failures)})</h2>"]
    for group in s.get("causes", []):
        n = len(group["tests"])
        out.append(f'<div class="headline">{n} failure{"s" * (n != 1)}, 1 cause: {_e(group["cause"])}</div>')
    for f in failures:
        kind = "collection" if f["outcome"] == "collection error" else f["outcome"]
        when = f" in {f['when']}" if f.get("when") and f["when"] != "call" else ""
        rerun = " " + _badge(f"rerun \u00d7{f['reruns']}") if f.get("reruns") else ""
        out.append(f'<section class="failure {_e(kind)}">')
        out.append(f"<h3>{_badge(f['outcome'] + when)}{rerun} {_e(f['nodeid'])}</h3>")
        if f.get("headline"):
            out.append(f'<div class="headline">{_e(f["headline"])}</div>')
        if f.get("attachments"):
            out.append("<div><strong>Diagnostics</strong>" + _attachments(f["attachments"]) + "</div>")
        out.append(f"<pre>{_e(f['longrepr'])}</pre>")
        for title, content in f.get("sections", []):
            out.append(f"<details><summary>{_e(title)}</summary><pre>{_e(content)}</pre></details>")
        for i, err in enumerate(f.get("rerun_errors", []), 1):
            out.append(f"<details><summary>attempt {i} (rerun)</summary><pre>{_e(err)}</pre></details>")
        out.append("</section>")
    return "\n".join(out)


def _reruns(s: dict[str, Any]) -> str:
    passed_late = [r for r in s.get("reruns", []) if r["outcome"] not in ("failed", "error")]
    if not passed_late:
        return ""
    rows = "".join(
        f'<tr><td class="id">{_e(r["nodeid"])}</td><td>{_badge(r["outcome"])}</td>'
        f'<td class="num">{_e(r["reruns"])}</td>'
        f"<td><details><summary>errors of discarded attempts</summary>"
        f"{''.join(f'<pre>{_e(err)}</pre>' for err in r['rerun_errors'])}</details></td></tr>"
        for r in passed_late
    )
    return (
        f"<h2>Passed only after reruns ({len(passed_late)})</h2>"
        '<table><tr><th>test</th><th>final</th><th class="num">reruns</th><th></th></tr>'
        f"{rows}</table>"
    )


def _timeline(s: dict[str, Any]) -> str:
    legend = (
        '<div class="legend muted"><span><i style="background:#0969da"></i>recorded phase</span>'
        '<span><i style="background:#8250df"></i>suite (first test body to last teardown)</span>'
        '<span><i style="background:#cf222e"></i>phase that failed</span>'
        '<span><i style="background:#8c959f"></i>whole pytest session</span></div>'
    )
    return f"<h2>Timeline</h2>{legend}{gantt_svg(s['phases'])}"


def _probes(s: dict[str, Any]) -> str:
    probes = s["probes"]
    if not probes:
        return '<h2>Probe latencies</h2><p class="muted">No probes recorded.</p>'
    rows = "".join(
        f'<tr><td class="id">{_e(name)}</td><td class="num">{_e(p["count"])}</td>'
        f'<td class="num{" bad" if p["failed"] else ""}">{_e(p["failed"])}</td>'
        f'<td class="num">{_e(fmt.millis(p["min_s"]))}</td><td class="num">{_e(fmt.millis(p["median_s"]))}</td>'
        f'<td class="num">{_e(fmt.millis(p["max_s"]))}</td><td>{_e(", ".join(p["origins"]))}</td></tr>'
        for name, p in probes.items()
    )
    return (
        "<h2>Probe latencies</h2><table><tr><th>probe</th><th class='num'>count</th>"
        "<th class='num'>failed</th><th class='num'>min ms</th><th class='num'>median ms</th>"
        f"<th class='num'>max ms</th><th>recorded by</th></tr>{rows}</table>"
    )


def _tests(s: dict[str, Any]) -> str:
    rows = []
    for t in s["tests"]:
        note = t.get("headline") or t.get("reason") or ""
        reruns = t.get("reruns", 0)
        rows.append(
            f'<tr><td>{_badge(t["outcome"])}</td><td class="id">{_e(t["nodeid"])}'
            f"{_attachments(t.get('attachments', []), paths=False)}</td>"
            f'<td class="num">{_e(fmt.duration(t["duration_s"]))}</td>'
            f'<td class="num{" bad" if reruns else ""}">{_e(reruns)}</td>'
            f"<td>{_e(t.get('worker') or '')}</td><td>{_e(note)}</td></tr>"
        )
    return (
        f"<h2>All tests ({len(s['tests'])})</h2><table><tr><th>outcome</th><th>test</th>"
        "<th class='num'>duration</th><th class='num'>reruns</th><th>worker</th><th>note</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _facts(s: dict[str, Any]) -> str:
    facts = s["facts"]
    rows = "".join(
        f'<tr><th>{_e(k)}</th><td class="id">{_e(v if isinstance(v, str) else json.dumps(v, default=str))}</td></tr>'
        for k, v in sorted(facts.items())
    )
    run_att = _attachments(s.get("attachments", []))
    return f"<h2>Facts</h2><table>{rows}</table>" + (f"<h2>Run diagnostics</h2>{run_att}" if run_att else "")


def _history(s: dict[str, Any]) -> str:
    """Each failed or flaky test's outcomes over the earlier runs and this one, and the phases'
    trend with this run last: is it new, does it come and go, did something get slower."""
    h = s.get("history")
    if not h or not h.get("runs"):
        return ""
    mine = {t["nodeid"]: ("flaky" if t["outcome"] == "passed" and t.get("reruns") else t["outcome"])
            for t in s.get("tests", [])}
    rows = "".join(f'<tr><td class="id">{_e(n)}</td><td>{strip([*h["tests"].get(n, [None] * len(h["runs"])), o])}'
                   f"</td></tr>" for n, o in sorted(mine.items()) if o in ("failed", "error", "flaky"))
    own = {p["name"]: p["duration_s"] for p in s.get("phases", []) if p["kind"] in ("phase", "suite")}
    phases = {name: [*values, own.get(name)] for name, values in h.get("phases", {}).items()}
    runs = len(h["runs"]) + 1
    table = (f"<table><tr><th>test</th><th>last {runs} runs, this one last</th></tr>{rows}</table>" if rows
             else "<p>No test failed or needed a rerun in this run.</p>")
    return f"<h2>History</h2>{table}<h3>Phases over the last {runs} runs</h3>{trend_svg(phases, runs)}"


def render(summary: dict[str, Any]) -> str:
    body = "\n".join(
        [
            _aborted(summary),
            _skips(summary),
            _failures(summary),
            _history(summary),
            _reruns(summary),
            _timeline(summary),
            _probes(summary),
            _tests(summary),
            _facts(summary),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(summary['verdict'].upper())} \u2014 kubegate run {_e(summary['run_id'])}</title>"
        f"<style>{CSS}</style></head><body>\n{_banner(summary)}\n<main>\n{body}\n</main></body></html>\n"
    )


def write_html(run_dir: Path, summary: dict[str, Any]) -> Path:
    path = run_dir / HTML_FILE
    tmp = path.with_name(f".{HTML_FILE}.{os.getpid()}.tmp")
    tmp.write_text(render(summary), encoding="utf-8")
    os.replace(tmp, path)
    return path
