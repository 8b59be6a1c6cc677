"""Finishing a run: merge every process's records and write the reports, in the order that
keeps ``latest`` honest (it moves only once summary.json and report.html exist)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubegate.report.html import write_html
from kubegate.report.results import TestResults
from kubegate.report.run import Run
from kubegate.report.summary import Asked, build_summary, write_summary


@dataclass(frozen=True)
class Published:
    summary: dict[str, Any]
    summary_path: Path
    html_path: Path
    latest_error: str | None  # why reports/latest could not be updated, if it could not


def publish(run: Run, results: TestResults | None = None, exitstatus: int = 0, junit: str | None = None,
            asked: Asked | None = None, collected: int | None = None,
            history: dict[str, Any] | None = None) -> Published:
    """Also usable outside pytest (the CLI passes no results), hence the defaults. `history`: the
    earlier runs' view for report.html's history strips (kubegate.history.window.for_report)."""
    summary = build_summary(run, results or TestResults(), exitstatus, time.time(), junit, asked or Asked(), collected)
    summary["history"] = history
    summary_path = write_summary(run.dir, summary)
    html_path = write_html(run.dir, summary)
    latest_error = None
    try:
        run.mark_latest()
    except OSError as exc:  # e.g. a real directory named "latest"; the run's own files are fine
        latest_error = f"{type(exc).__name__}: {exc}"
    return Published(summary, summary_path, html_path, latest_error)
