"""The run's record log: one append-only JSON Lines file per process under ``parts/``.

Why one file per process: the xdist controller, its workers and any CLI subprocess a test
starts all record into the same run at the same time. Separate files need no cross-process
locking, and the controller merges them once everything has finished.

Why append a line per record instead of dumping a JSON document at exit: a worker that
crashes, hangs and gets killed, or loses its node mid-run still leaves every record it
made up to that moment, which is exactly when the diagnostics matter most. A torn last
line from such a crash is skipped on load rather than losing the whole file.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARTS_DIR = "parts"


@dataclass(frozen=True)
class PhaseRecord:
    name: str
    started: float
    ended: float
    origin: str
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return max(0.0, self.ended - self.started)


@dataclass(frozen=True)
class ProbeRecord:
    name: str
    latency_s: float
    ok: bool
    at: float
    origin: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AttachmentRecord:
    nodeid: str  # "" for diagnostics that belong to the run rather than one test
    path: str  # relative to the run dir, POSIX separators, so links survive archiving
    label: str
    at: float
    origin: str
    missing: bool = False


@dataclass
class Records:
    """Everything every process recorded, merged; facts resolved last-write-wins by time."""

    phases: list[PhaseRecord] = field(default_factory=list)
    probes: list[ProbeRecord] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    attachments: list[AttachmentRecord] = field(default_factory=list)
    unreadable_lines: int = 0

    def attachments_for(self, nodeid: str) -> list[AttachmentRecord]:
        return [a for a in self.attachments if a.nodeid == nodeid]


class PartWriter:
    """Appends records for one process; safe to share between that process's threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, kind: str, payload: dict[str, Any]) -> None:
        # default=str: attrs come from arbitrary callers; a datetime or Path must not make
        # recording (which runs inside tests and bring-up code) raise.
        line = json.dumps({"kind": kind, **payload}, default=str, sort_keys=True) + "\n"
        data = line.encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)


def load_records(run_dir: Path) -> Records:
    records = Records()
    facts: list[tuple[float, str, Any]] = []
    for part in sorted((run_dir / PARTS_DIR).glob("*.jsonl")):
        for raw in part.read_text(encoding="utf-8", errors="replace").splitlines():
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
                kind = item.pop("kind")
                if kind == "phase":
                    records.phases.append(PhaseRecord(**item))
                elif kind == "probe":
                    records.probes.append(ProbeRecord(**item))
                elif kind == "fact":
                    facts.append((float(item["at"]), str(item["key"]), item["value"]))
                elif kind == "attachment":
                    records.attachments.append(AttachmentRecord(**item))
                else:
                    records.unreadable_lines += 1
            except (ValueError, TypeError, KeyError):
                records.unreadable_lines += 1
    for _, key, value in sorted(facts, key=lambda f: f[0]):
        records.facts[key] = value
    records.phases.sort(key=lambda p: (p.started, p.ended))
    records.attachments.sort(key=lambda a: a.at)
    return records
