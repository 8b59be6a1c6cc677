"""Human units shared by the terminal block, the timeline and the HTML, so one run reads the
same everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def millis(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _upstream_only(skip: dict[str, Any]) -> bool:
    return bool(skip.get("upstream")) and not skip["smoke"]


def skip_lines(skips: list[dict[str, Any]], limit: int = 20) -> list[str]:
    """Skips as a reader must see them: smoke ones (which block the gate) first, each with why."""
    if not skips:
        return []
    groups = (
        ("smoke tests skipped", [s for s in skips if s["smoke"] and not s["accepted"]]),
        ("upstream specs skipped", [s for s in skips if _upstream_only(s) and not s["accepted"]]),
        ("skips accepted with --accept-skip", [s for s in skips if s["accepted"]]),
        ("other tests skipped", [s for s in skips if not s["smoke"] and not s.get("upstream") and not s["accepted"]]),
    )
    lines: list[str] = []
    for title, group in groups:
        if not group:
            continue
        lines.append(f"{title} ({len(group)}):")
        lines += [f"  - {s['nodeid']}: {s['reason'] or '(no reason given)'}" for s in group[:limit]]
        if len(group) > limit:
            lines.append(f"  ... and {len(group) - limit} more (summary.json lists all)")
    return lines
