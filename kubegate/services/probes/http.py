"""HTTP probe (the standard library's urllib, as a user's script would): GET a path, check the
status and, if asked, that the body contains a text. For users' own services, checked with the
public `node_probe` fixture like db and msg."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from .result import MISMATCH, ProbeResult, fail, origin, target_of

DEFAULT_PORT = 80


def _ms() -> float:
    return time.monotonic() * 1000.0


def probe_http(host: str, port: int = DEFAULT_PORT, *, path: str = "/", expect_status: int = 200,
               expect_body: str | None = None, timeout_s: float = 5.0) -> ProbeResult:
    """details: status, body (its first 200 characters)."""
    target = target_of(host, port)
    url = f"http://{target}{path if path.startswith('/') else '/' + path}"
    started = _ms()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            status, body = resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read().decode("utf-8", "replace")
    except (OSError, ValueError) as exc:
        return fail("http", target, started, _ms(), str(getattr(exc, "reason", exc)), action=f"GET {path}")
    details = {"url": url, "status": status, "body": body[:200]}
    problem = (f"status {status}, expected {expect_status}" if status != expect_status else
               f"body lacks {expect_body!r}" if expect_body is not None and expect_body not in body else "")
    if problem:
        return fail("http", target, started, _ms(), f"{problem}: {body[:200]!r}", action=f"GET {path}",
                    kind=MISMATCH, details=details)
    return ProbeResult("http", target, True, _ms() - started, origin(), details)
