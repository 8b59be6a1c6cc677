"""The history database: one SQLite file kept outside the run folders, appended by every run.

Each run is written in one transaction from its finished summary.json, so a reader never sees
half a run, and a run killed before its summary exists leaves nothing (an interrupted run that
reached its summary is recorded, flagged interrupted). Only the process that owns the session
writes (the xdist controller), and SQLite's own locking serialises concurrent runs.

The schema is versioned (`PRAGMA user_version`) and migrated forward step by step on open, so a
database an older kubegate wrote keeps working after an upgrade.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HISTORY_ENV = "KUBEGATE_HISTORY"
DEFAULT_NAME = "history.sqlite"

#: migration i brings a database from version i to i + 1; a new schema is the last one's version
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []


def _migration(fn: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    MIGRATIONS.append(fn)
    return fn


@_migration
def _v1(db: sqlite3.Connection) -> None:
    """Runs and each test's outcome, duration and cause."""
    db.executescript("""
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY, started REAL NOT NULL, finished REAL, verdict TEXT NOT NULL,
            exitstatus INTEGER, counts TEXT NOT NULL, revision TEXT, cluster TEXT, server_version TEXT);
        CREATE TABLE tests (
            run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, nodeid TEXT NOT NULL,
            outcome TEXT NOT NULL, duration_s REAL, cause TEXT, reruns INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, nodeid));
    """)


@_migration
def _v2(db: sqlite3.Connection) -> None:
    """Phases and probe latencies (trends), and whether the run was interrupted."""
    db.executescript("""
        ALTER TABLE runs ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE phases (
            run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, name TEXT NOT NULL,
            kind TEXT NOT NULL, duration_s REAL NOT NULL);
        CREATE TABLE probes (
            run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, name TEXT NOT NULL,
            count INTEGER NOT NULL, failed INTEGER NOT NULL, median_s REAL NOT NULL);
        CREATE INDEX tests_by_nodeid ON tests (nodeid);
    """)


SCHEMA_VERSION = len(MIGRATIONS)


def history_path(reports_root: Path, option: str | None = None) -> Path:
    """--history, else $KUBEGATE_HISTORY, else history.sqlite beside the run folders."""
    value = option or os.environ.get(HISTORY_ENV)
    return Path(value).expanduser() if value else reports_root / DEFAULT_NAME


@contextlib.contextmanager
def connect(path: Path, upto: int = SCHEMA_VERSION) -> Iterator[sqlite3.Connection]:
    """The database at `path`, created or migrated to `upto` (tests build older versions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"{path} was written by a newer kubegate (schema {version}, this one "
                                        f"reads up to {SCHEMA_VERSION}): upgrade kubegate or use another --history")
        for step in range(version, upto):
            with db:
                MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version = {step + 1}")
        yield db
    finally:
        db.close()


def record(path: Path, summary: dict[str, Any], *, revision: str | None, cluster: str | None,
           interrupted: bool = False) -> None:
    """Append one finished run (its summary.json) in a single transaction; a run recorded before
    (the same run id) is replaced, never doubled."""
    phases = [(p["name"], p["kind"], float(p["duration_s"])) for p in summary.get("phases", [])
              if p.get("kind") in ("phase", "suite") and p.get("name")]
    probes = [(name, int(s["count"]), int(s["failed"]), float(s["median_s"]))
              for name, s in (summary.get("probes") or {}).items()]
    run_id = summary["run_id"]
    with connect(path) as db, db:
        db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
        db.execute("INSERT INTO runs (run_id, started, finished, verdict, exitstatus, counts, revision, cluster, "
                   "server_version, interrupted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (run_id, summary["started"], summary.get("finished"), summary["verdict"], summary.get("exitstatus"),
                    json.dumps(summary.get("counts", {})), revision, cluster, summary.get("server_version"),
                    int(interrupted)))
        db.executemany("INSERT INTO tests (run_id, nodeid, outcome, duration_s, cause, reruns) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       [(run_id, t["nodeid"], _outcome(t), t.get("duration_s"), _cause(summary, t),
                         int(t.get("reruns") or 0)) for t in summary.get("tests", [])])
        db.executemany("INSERT INTO phases (run_id, name, kind, duration_s) VALUES (?, ?, ?, ?)",
                       [(run_id, *p) for p in phases])
        db.executemany("INSERT INTO probes (run_id, name, count, failed, median_s) VALUES (?, ?, ?, ?, ?)",
                       [(run_id, *p) for p in probes])


def _outcome(test: dict[str, Any]) -> str:
    """A pass that needed reruns is `flaky`, never a plain pass."""
    return "flaky" if test["outcome"] == "passed" and test.get("reruns") else str(test["outcome"])


def _cause(summary: dict[str, Any], test: dict[str, Any]) -> str | None:
    if test["outcome"] not in ("failed", "error"):
        return None
    return test.get("cause") or test.get("headline") or None
