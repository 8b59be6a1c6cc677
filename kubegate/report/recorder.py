"""The recording interface library code depends on, and the no-op stand-in.

Cluster bring-up and probes run under pytest, from the CLI and in unit tests with no run at
all. They call ``kubegate.report.current()`` and record unconditionally; when nothing is
collecting, the null recorder keeps that free and keeps ``if run is not None`` checks out
of library code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

Instant = float | datetime  # epoch seconds (time.time()) or a datetime


def to_epoch(value: Instant) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class Recorder(Protocol):
    def record_phase(self, name: str, started: Instant, ended: Instant, **attrs: Any) -> None: ...

    def phase(self, name: str, **attrs: Any) -> AbstractContextManager[dict[str, Any]]:
        """Times the body; it may add attributes (e.g. nodes=3) to the yielded dict."""
        ...

    def record_probe(self, name: str, latency_s: float, ok: bool, **attrs: Any) -> None: ...

    def add_fact(self, key: str, value: Any) -> None: ...

    def attach(self, nodeid: str, path: str | Path, label: str | None = None) -> None: ...


class NullRecorder:
    """Accepts everything, keeps nothing; ``phase`` still times and re-raises normally."""

    def record_phase(self, name: str, started: Instant, ended: Instant, **attrs: Any) -> None:
        return None

    @contextmanager
    def phase(self, name: str, **attrs: Any) -> Iterator[dict[str, Any]]:
        yield dict(attrs)

    def record_probe(self, name: str, latency_s: float, ok: bool, **attrs: Any) -> None:
        return None

    def add_fact(self, key: str, value: Any) -> None:
        return None

    def attach(self, nodeid: str, path: str | Path, label: str | None = None) -> None:
        return None
