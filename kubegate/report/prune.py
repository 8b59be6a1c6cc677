"""`--keep-runs N`: the newest N run folders stay, older finished ones go (the history database
keeps their summaries). A folder without summary.json is a run still going (or one that died,
which `kubegate sweep`'s owner can judge): never removed here, nor the run `latest` points at."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from kubegate.report.summary import SUMMARY_FILE

RUN_DIR = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")
DEFAULT_KEEP = 30


def prune_runs(root: Path, keep: int, current: str) -> list[str]:
    """Remove finished run folders beyond the newest `keep`; returns the removed run ids."""
    if keep <= 0 or not root.is_dir():
        return []
    latest = (root / "latest").resolve().name if (root / "latest").is_symlink() else None
    runs = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink() and RUN_DIR.match(p.name))
    removed = []
    for run_id in runs[:-keep]:
        if run_id in (current, latest) or not (root / run_id / SUMMARY_FILE).is_file():
            continue
        shutil.rmtree(root / run_id, ignore_errors=True)
        removed.append(run_id)
    return removed
