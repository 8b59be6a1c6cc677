"""One test run's identity, directory and recorders.

A run is created once by the process that owns the verdict (the pytest controller, or the
CLI) and *joined* by every other process that records into it (xdist workers, subprocesses).
Joiners learn the run only through its directory, which holds ``run.json``; that is why the
id and start time live on disk and not just in the creator's memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubegate.report.recorder import Instant, to_epoch
from kubegate.report.records import PARTS_DIR, AttachmentRecord, PartWriter, Records, load_records

META_FILE = "run.json"
LATEST = "latest"
ATTACHMENTS_DIR = "attachments"
# Set by the run's creator so any child process (xdist worker, `kubegate` CLI started by a
# test) can join the run without being told explicitly.
RUN_DIR_ENV = "KUBEGATE_RUN_DIR"
RUN_ID_ENV = "KUBEGATE_RUN_ID"
# Set by a parent that starts pytest and must read that run's own folder (`kubegate soak`):
# `latest` names the newest-started run in the reports dir, which may be another session's.
RECEIPT_ENV = "KUBEGATE_RUN_RECEIPT"


def new_run_id(at: datetime | None = None) -> str:
    """UTC timestamp first so ids sort by start time across hosts and time zones; the random
    suffix keeps two runs started in the same second (CI matrix jobs) apart."""
    at = at or datetime.now(UTC)
    return f"{at.astimezone(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def _slug(nodeid: str) -> str:
    """A short, filesystem-safe directory name that stays unique for distinct node ids
    (parametrize ids can contain anything, and differ only in characters we replace)."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:80] or "run"
    digest = hashlib.sha1(nodeid.encode("utf-8")).hexdigest()[:8]
    return f"{readable}-{digest}"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _started_of(run_dir: Path) -> float:
    try:
        return float(json.loads((run_dir / META_FILE).read_text(encoding="utf-8"))["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return float("-inf")


def write_receipt(run_dir: Path) -> None:
    """Tell the parent that asked (``RECEIPT_ENV``) which folder is this run's."""
    receipt = os.environ.get(RECEIPT_ENV)
    if receipt:
        _write_atomic(Path(receipt), f"{run_dir}\n")


class Run:
    def __init__(self, run_dir: Path, run_id: str, started: float, origin: str) -> None:
        self.dir = run_dir
        self.run_id = run_id
        self.started = started
        self.origin = origin
        self._writer = PartWriter(run_dir / PARTS_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', origin)}.jsonl")
        self._lock = threading.Lock()
        self._pending: dict[str, list[AttachmentRecord]] = {}

    def __repr__(self) -> str:
        return f"Run({self.run_id!r}, origin={self.origin!r}, dir={str(self.dir)!r})"

    @classmethod
    def create(cls, reports_root: str | Path, origin: str = "controller", run_id: str | None = None) -> Run:
        """``run_id``: the id the session already labels its objects with (kubegate's settings),
        so the report folder, namespaces and markers of one run carry one id; a fresh one if taken."""
        root = Path(reports_root).absolute()
        root.mkdir(parents=True, exist_ok=True)
        started = time.time()
        wanted = run_id
        for attempt in range(50):
            run_id = wanted if attempt == 0 and wanted else new_run_id(datetime.fromtimestamp(started, UTC))
            run_dir = root / run_id
            try:
                run_dir.mkdir()
            except FileExistsError:
                continue
            _write_atomic(run_dir / META_FILE, json.dumps({"run_id": run_id, "started": started}, indent=2) + "\n")
            return cls(run_dir, run_id, started, origin)
        raise RuntimeError(f"could not allocate a fresh run directory under {root}")

    @classmethod
    def join(cls, run_dir: str | Path, origin: str) -> Run:
        """Records into an existing run; ``origin`` names this process's part file, so it
        must be unique per process (xdist worker id, or ``proc-<pid>``)."""
        path = Path(run_dir)
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        return cls(path, str(meta["run_id"]), float(meta["started"]), origin)

    # --- recorders -----------------------------------------------------------------------

    def record_phase(self, name: str, started: Instant, ended: Instant, **attrs: Any) -> None:
        self._writer.write(
            "phase",
            {
                "name": name,
                "started": to_epoch(started),
                "ended": to_epoch(ended),
                "origin": self.origin,
                "attrs": attrs,
            },
        )

    @contextmanager
    def phase(self, name: str, **attrs: Any) -> Iterator[dict[str, Any]]:
        """A phase that raises is still recorded, marked ok=False with the error, because a
        bring-up that died after 9 minutes in ``vagrant up`` is the timeline people need."""
        extra = dict(attrs)
        started = time.time()
        try:
            yield extra
        except BaseException as exc:
            extra.setdefault("ok", False)
            extra.setdefault("error", f"{type(exc).__name__}: {exc}")
            self.record_phase(name, started, time.time(), **extra)
            raise
        extra.setdefault("ok", True)
        self.record_phase(name, started, time.time(), **extra)

    def record_probe(self, name: str, latency_s: float, ok: bool, **attrs: Any) -> None:
        self._writer.write(
            "probe",
            {
                "name": name,
                "latency_s": float(latency_s),
                "ok": bool(ok),
                "at": time.time(),
                "origin": self.origin,
                "attrs": attrs,
            },
        )

    def add_fact(self, key: str, value: Any) -> None:
        self._writer.write("fact", {"key": key, "value": value, "at": time.time(), "origin": self.origin})

    def attachment_dir(self, nodeid: str) -> Path:
        """Where diagnostics for ``nodeid`` should be written, so attaching them needs no copy."""
        path = self.dir / ATTACHMENTS_DIR / _slug(nodeid)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def attach(self, nodeid: str, path: str | Path, label: str | None = None) -> None:
        """Never raises for a missing or unreadable file: diagnostics are gathered while
        something is already failing, and must not replace that failure with their own.
        Files outside the run dir are copied in so the run dir is complete on its own
        (CI archives that one directory)."""
        source = Path(path).absolute()
        label = label or source.name
        missing = not source.exists()
        rel = str(path)
        if not missing:
            try:
                rel = source.relative_to(self.dir.absolute()).as_posix()
            except ValueError:
                try:
                    rel = self._copy_in(nodeid, source).relative_to(self.dir).as_posix()
                except OSError:
                    missing = True
        record = AttachmentRecord(
            nodeid=nodeid, path=rel, label=label, at=time.time(), origin=self.origin, missing=missing
        )
        self._writer.write("attachment", asdict(record))
        with self._lock:
            self._pending.setdefault(nodeid, []).append(record)

    def _copy_in(self, nodeid: str, source: Path) -> Path:
        with self._lock:
            target_dir = self.attachment_dir(nodeid)
            target = target_dir / source.name
            n = 1
            while target.exists():
                target = target_dir / f"{source.stem}-{n}{source.suffix}"
                n += 1
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
            return target

    def take_attachments(self, nodeid: str) -> list[AttachmentRecord]:
        """Attachments made in this process for ``nodeid`` since the last call; the pytest
        plugin moves them onto the test item so junit.xml links them."""
        with self._lock:
            return self._pending.pop(nodeid, [])

    # --- the run dir ---------------------------------------------------------------------

    def records(self) -> Records:
        return load_records(self.dir)

    def mark_latest(self) -> None:
        """Point ``<reports>/latest`` at this run via rename, so readers never see the link
        missing; skipped if a run that started later already claimed it (a long run that
        finishes last must not hide a newer one). Compared by start time from run.json, not
        by id: ids only have second resolution and a random suffix."""
        link = self.dir.parent / LATEST
        if _started_of(link) > self.started:
            return
        tmp = self.dir.parent / f".{LATEST}.{os.getpid()}.{secrets.token_hex(4)}"
        os.symlink(self.run_id, tmp)  # relative, so the reports dir can be moved or archived
        try:
            os.replace(tmp, link)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
