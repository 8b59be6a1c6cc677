"""The history as one static HTML page (no server, no script): the grid, the news, and the
phases' trend as inline SVG, readable straight from a CI artifact."""

from __future__ import annotations

import html
from pathlib import Path

from kubegate.history.window import BAD, Window

COLOR = {"passed": "#2e7d32", "failed": "#c62828", "error": "#ef6c00", "skipped": "#9e9e9e", "flaky": "#f9a825",
         None: "#eeeeee"}


def _e(text: object) -> str:
    return html.escape(str(text))


def trend_svg(phases: dict[str, list[float | None]], runs: int, width: int = 640, height: int = 180,
              keep: int = 6) -> str:
    """The longest phases over the runs, one line each (seconds on the y axis)."""
    series = sorted(phases.items(), key=lambda kv: -max((v or 0.0) for v in kv[1]))[:keep]
    if not series or runs < 2:
        return "<p>Not enough runs for a trend yet.</p>"
    top = max((v or 0.0) for _, values in series for v in values) or 1.0
    step = (width - 60) / (runs - 1)
    palette = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img" '
             f'aria-label="phase durations per run">',
             f'<text x="0" y="12" font-size="11">{top:.0f} s</text><text x="0" y="{height}" font-size="11">0</text>']
    for i, (name, values) in enumerate(series):
        points = " ".join(f"{50 + j * step:.1f},{height - (v / top) * (height - 20):.1f}"
                          for j, v in enumerate(values) if v is not None)
        color = palette[i % len(palette)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        parts.append(f'<text x="{50 + (i % 3) * 200}" y="{height + 18 + (i // 3) * 14}" font-size="11" '
                     f'fill="{color}">{_e(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def strip(outcomes: list[str | None]) -> str:
    """One test's outcomes over the window as small coloured cells (report.html uses it too)."""
    return "".join(f'<span title="{_e(o or "not run")}" style="display:inline-block;width:10px;height:14px;'
                   f'margin-right:1px;background:{COLOR.get(o, "#bdbdbd")}"></span>' for o in outcomes)


def render(w: Window) -> str:
    head = "".join(f'<th title="{_e(r["run_id"])}">{i + 1}</th>' for i, r in enumerate(w.runs))
    rows = []
    for t in sorted(w.tests, key=lambda t: (not (t.flaky or t.failure_rate), t.nodeid)):
        cells = "".join(f'<td style="background:{COLOR.get(o, "#bdbdbd")}" title="{_e(o or "not run")}"></td>'
                        for o in t.outcomes)
        rows.append(f'<tr><td class="id">{_e(t.nodeid)}</td>{cells}<td>{t.failure_rate:.0%}</td>'
                    f'<td>{t.flip_rate:.0%}</td><td>{"flaky" if t.flaky else ""}</td></tr>')
    runs = "".join(f"<li>{i + 1}: {_e(r['run_id'])} {_e('INTERRUPTED' if r['interrupted'] else r['verdict'])} "
                   f"{_e(r.get('server_version') or '')}</li>" for i, r in enumerate(w.runs))
    news = "".join(f"<li>{_e(n)}</li>" for n in w.news()) or "<li>nothing new</li>"
    trends = "".join(f"<tr><td>{_e(what)}</td><td>{latest:.3f}</td><td>{median:.3f}</td><td>{change:+.1f}%</td></tr>"
                     for what, latest, median, change in w.trends())
    failing = sum(1 for t in w.tests if t.outcomes and t.outcomes[-1] in BAD)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>kubegate history</title><style>"
        "body{font-family:system-ui,sans-serif;margin:20px} table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ddd;padding:2px 4px} td.id{font-family:monospace;white-space:nowrap}"
        "</style></head><body>"
        f"<h1>kubegate history: {len(w.runs)} runs</h1><p>{failing} tests failing in the latest run</p>"
        f"<h2>News</h2><ul>{news}</ul><h2>Phases over the runs</h2>{trend_svg(w.phases, len(w.runs))}"
        f"<h2>Tests x runs</h2><table><tr><th>test</th>{head}<th>fail</th><th>flip</th><th></th></tr>"
        f"{''.join(rows)}</table><h2>Runs</h2><ol>{runs}</ol>"
        "<h2>Trends (latest against the window's median, seconds)</h2><table><tr><th>what</th><th>latest</th>"
        f"<th>median</th><th>change</th></tr>{trends}</table></body></html>\n")


def write(w: Window, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(w), encoding="utf-8")
    return path
