"""The phase timeline as an inline SVG Gantt chart.

SVG rather than a chart library because report.html must open from a CI artifact store or
a mail attachment with no network and no JavaScript; native ``<title>`` elements give
hover details for free.
"""

from __future__ import annotations

from html import escape
from typing import Any

from kubegate.report import fmt

WIDTH = 1120
LABEL_W = 330
RIGHT_PAD = 80  # room for the duration text after the last bar
AXIS_H = 26
ROW_H = 24
BAR_H = 14
COLORS = {"phase": "#0969da", "suite": "#8250df", "session": "#8c959f"}
FAILED_COLOR = "#cf222e"
NICE_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)


def _tick_step(span: float, max_ticks: int = 10) -> float:
    for step in NICE_STEPS:
        if span / step <= max_ticks:
            return step
    return NICE_STEPS[-1] * (1 + int(span / NICE_STEPS[-1] / max_ticks))


def _tick_label(offset: float, step: float) -> str:
    if step < 1:
        return f"{offset:.1f}s"
    if step < 60:
        return f"{offset:.0f}s"
    return f"{int(offset // 60)}m" if offset % 60 == 0 else f"{int(offset // 60)}m{int(offset % 60):02d}s"


def _label(phase: dict[str, Any]) -> str:
    origin = str(phase.get("origin", ""))
    name = str(phase["name"])
    return name if origin in ("controller", "pytest", "") else f"{name} [{origin}]"


def _truncate(text: str, limit: int = 44) -> str:
    return text if len(text) <= limit else "\u2026" + text[-(limit - 1) :]


def gantt_svg(phases: list[dict[str, Any]]) -> str:
    if not phases:
        return ""
    t0 = min(float(p["started"]) for p in phases)
    t1 = max(float(p["ended"]) for p in phases)
    span = max(t1 - t0, 0.001)
    chart_w = WIDTH - LABEL_W - RIGHT_PAD
    scale = chart_w / span
    height = AXIS_H + ROW_H * len(phases) + 6
    out = [
        f'<svg class="gantt" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="phase timeline">'
    ]
    step = _tick_step(span)
    tick = 0.0
    while tick <= span + 1e-9:
        x = LABEL_W + tick * scale
        out.append(f'<line x1="{x:.1f}" y1="{AXIS_H - 6}" x2="{x:.1f}" y2="{height - 4}" class="grid"/>')
        out.append(f'<text x="{x:.1f}" y="{AXIS_H - 10}" class="tick">{escape(_tick_label(tick, step))}</text>')
        tick += step
    for i, phase in enumerate(phases):
        y = AXIS_H + i * ROW_H
        if i % 2 == 0:
            out.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW_H}" class="zebra"/>')
        started, dur = float(phase["started"]), float(phase["duration_s"])
        failed = phase.get("attrs", {}).get("ok") is False
        color = FAILED_COLOR if failed else COLORS.get(str(phase.get("kind")), COLORS["phase"])
        x = LABEL_W + (started - t0) * scale
        w = max(dur * scale, 2.0)
        label = _label(phase)
        attrs = "".join(f"\n{k}: {v}" for k, v in phase.get("attrs", {}).items())
        title = escape(f"{label}\n{fmt.duration(dur)} from +{fmt.duration(started - t0)} ({phase.get('kind')}){attrs}")
        text_y = y + ROW_H / 2 + 4
        out.append("<g>")
        out.append(f"<title>{title}</title>")
        out.append(f'<text x="{LABEL_W - 10}" y="{text_y:.1f}" class="label">{escape(_truncate(label))}</text>')
        out.append(
            f'<rect x="{x:.1f}" y="{y + (ROW_H - BAR_H) / 2:.1f}" width="{w:.1f}" height="{BAR_H}" rx="3" '
            f'fill="{color}"/>'
        )
        suffix = " \u2717" if failed else ""
        dur_text = escape(fmt.duration(dur) + suffix)
        out.append(f'<text x="{x + w + 5:.1f}" y="{text_y:.1f}" class="dur">{dur_text}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
