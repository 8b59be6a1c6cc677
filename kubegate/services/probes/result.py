"""The one result shape every probe returns, and the one-line failure messages.

Pure logic (no network): unit-tested in tests/test_probe_format.py.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# What answered, in the words a failure message uses.
REFUSED = "refused"
TIMEOUT = "timeout"
AUTH_FAILURE = "auth failure"
NAME_RESOLUTION = "name resolution failure"
CLOSED = "closed by peer"
UNREACHABLE = "unreachable"
PROTOCOL = "protocol error"
MISMATCH = "wrong answer"
ERROR = "error"

# First match wins: auth before "closed" (a broker refusing auth also closes the connection),
# name resolution before timeout ("Temporary failure in name resolution" is not a timeout).
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (AUTH_FAILURE, re.compile(r"unauthorized-access|authentication failed|auth(?:entication)? ?fail|"
                              r"'code': 18\b", re.I)),
    (NAME_RESOLUTION, re.compile(r"name or service not known|name resolution|nodename nor servname|"
                                 r"getaddrinfo|no address associated|enotfound|eai_again", re.I)),
    (REFUSED, re.compile(r"connection refused|errno 111\b|econnrefused", re.I)),
    (UNREACHABLE, re.compile(r"no route to host|network is unreachable|ehostunreach|enetunreach", re.I)),
    (TIMEOUT, re.compile(r"timed out|timeout|etimedout", re.I)),
    (PROTOCOL, re.compile(r"framing-error|protocol header|wire version", re.I)),
    (CLOSED, re.compile(r"connection reset|econnreset|broken pipe|connection closed|disconnected|\beof\b", re.I)),
]

_MAX_DETAIL = 300


def classify_failure(text: str) -> str:
    """What answered, from an exception's text: refused, timeout, auth failure, ..."""
    for kind, pattern in _PATTERNS:
        if pattern.search(text):
            return kind
    return ERROR


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every non-empty secret replaced by ***, and URL userinfo dropped."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"(\w+://)[^/@\s]+@", r"\1***@", text)


def one_line(text: str, limit: int = _MAX_DETAIL) -> str:
    """Collapse whitespace to single spaces and cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def origin() -> str:
    """Where the probe runs from: the hostname (a pod's name in Kubernetes)."""
    return socket.gethostname()


def format_failure(probe: str, target: str, source: str, kind: str, detail: str, action: str = "") -> str:
    """The one-line failure message: what was tried (host:port), from where, and what answered.

    >>> format_failure("mongo", "db:27017", "client-1", "refused", "[Errno 111] Connection refused")
    'mongo: tried db:27017 from client-1: refused ([Errno 111] Connection refused)'
    """
    what = f"{action} at {target}" if action else target
    detail = one_line(detail)
    return f"{probe}: tried {what} from {source}: {kind}" + (f" ({detail})" if detail else "")


@dataclass
class ProbeResult:
    """One probe's outcome. `to_json()` is the single line `kubegate-probe ... --json` prints."""

    probe: str
    target: str
    ok: bool
    latency_ms: float
    source: str = field(default_factory=origin)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "probe": self.probe,
            "ok": self.ok,
            "latency_ms": round(self.latency_ms, 2),
            "target": self.target,
            "from": self.source,
            "details": self.details,
            "error": self.error,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=False, default=str, separators=(", ", ": "))

    def summary(self) -> str:
        """A human line: `ok mongo db:27017 from client-1 in 12.3 ms` or the error."""
        if self.ok:
            return f"ok {self.probe} {self.target} from {self.source} in {self.latency_ms:.1f} ms"
        return self.error or f"{self.probe}: tried {self.target} from {self.source}: failed"


def fail(
    probe: str,
    target: str,
    started_ms: float,
    now_ms: float,
    exc_text: str,
    *,
    action: str = "",
    kind: str | None = None,
    details: dict[str, Any] | None = None,
    secrets: Iterable[str | None] = (),
) -> ProbeResult:
    """A failed ProbeResult whose error is one redacted line naming target, origin and answer."""
    text = redact(exc_text, secrets)
    src = origin()
    kind = kind or classify_failure(text)
    det = dict(details or {})
    det["failure"] = kind
    return ProbeResult(
        probe=probe,
        target=target,
        ok=False,
        latency_ms=now_ms - started_ms,
        source=src,
        details=det,
        error=format_failure(probe, target, src, kind, text, action),
    )


def target_of(host: str, port: int) -> str:
    """host:port, with IPv6 literals bracketed."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
