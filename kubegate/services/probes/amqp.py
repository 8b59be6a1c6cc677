"""AMQP 1.0 probe (python-qpid-proton): authenticated send/receive, and refusal of bad credentials.

`probe_amqp` connects with SASL PLAIN, sends N numbered messages to a queue, waits for each to be
settled (accepted) by the broker, receives them and accepts (settles) each, and asserts every
message arrived exactly once and in order. `probe_amqp_refused` asserts that the broker refuses a
wrong password, no credentials (SASL ANONYMOUS) and no SASL layer at all.

Credentials are passed to proton separately, never in the connection URL, so no error message or
result carries them; they are also redacted from error text as a second guard.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .result import (
    AUTH_FAILURE,
    MISMATCH,
    ProbeResult,
    classify_failure,
    fail,
    one_line,
    redact,
    target_of,
)

DEFAULT_PORT = 5672

# The one outcome that means "the broker answered and said no": AMQP 1.0's amqp:unauthorized-access
# or a SASL outcome of auth failure. A reset, EOF or framing error is no refusal, whoever caused it.
REFUSAL_KINDS = frozenset({AUTH_FAILURE})
#: what a broker that requires SASL answers a client opening without it: its SASL protocol header
#: (AMQP 1.0, 5.3.1), which proton reports as "Expected AMQP protocol header got: AMQP SASL layer"
SASL_REQUIRED = "AMQP SASL layer"


#: Unset by default: `msg` maps any hostname in the open frame to its one virtual host, as a
#: client that knows nothing of the broker expects. Set it for brokers that need a name.
VIRTUAL_HOST = os.environ.get("KUBEGATE_MSG_VHOST") or None


def _ms() -> float:
    return time.monotonic() * 1000.0


def _connect(host: str, port: int, timeout_s: float, **kwargs: Any) -> Any:
    from proton.utils import BlockingConnection

    # reconnect=False: a refused or failed connection is reported, not retried.
    if VIRTUAL_HOST:
        kwargs.setdefault("virtual_host", VIRTUAL_HOST)
    return BlockingConnection(f"amqp://{target_of(host, port)}", timeout=timeout_s, reconnect=False, **kwargs)


def default_queue() -> str:
    """A fresh queue name (the broker auto-creates any queue a client attaches to)."""
    return f"kubegate.probe.{uuid.uuid4().hex[:12]}"


def check_sequence(run: str, bodies: list[Any], count: int) -> str | None:
    """None when `bodies` are exactly run's messages 0..count-1 in order, else what is wrong.

    Pure; unit-tested. A body is {"run": run, "seq": i}.
    """
    seqs: list[int] = []
    for i, body in enumerate(bodies):
        seq = body.get("seq") if isinstance(body, dict) and body.get("run") == run else None
        if not isinstance(seq, int):
            return f"message {i} is not from this run: {one_line(repr(body), 80)}"
        seqs.append(seq)
    dupes = sorted({s for s in seqs if seqs.count(s) > 1})
    if dupes:
        return f"duplicated: seq {dupes[:10]}"
    missing = sorted(set(range(count)) - set(seqs))
    if missing:
        return f"missing {len(missing)} of {count}: seq {missing[:10]}"
    if seqs != list(range(count)):
        first = next(i for i, s in enumerate(seqs) if s != i)
        return f"out of order at position {first}: got seq {seqs[first]}"
    return None


def probe_amqp(
    host: str,
    port: int = DEFAULT_PORT,
    *,
    username: str,
    password: str,
    queue: str | None = None,
    count: int = 100,
    timeout_s: float = 10.0,
) -> ProbeResult:
    """Send `count` numbered messages to `queue` and receive them back exactly once, in order.

    Every blocking step is bounded by `timeout_s`. details: queue, count, connect_ms, send_ms,
    receive_ms, max_settle_ms (slowest broker settlement of a sent message).
    """
    from proton import Message
    from proton.utils import LinkDetached

    target = target_of(host, port)
    queue = queue or default_queue()
    run = uuid.uuid4().hex
    creds = (username, password)
    details: dict[str, Any] = {"queue": queue, "count": count}
    started = _ms()
    step = "connect (SASL PLAIN)"
    conn: Any = None
    try:
        t = _ms()
        conn = _connect(host, port, timeout_s, user=username, password=password, allowed_mechs="PLAIN")
        details["connect_ms"] = round(_ms() - t, 2)

        step = f"attach to {queue}"
        receiver = conn.create_receiver(queue, credit=count)
        sender = conn.create_sender(queue)

        step = f"send to {queue}"
        t = _ms()
        max_settle = 0.0
        for seq in range(count):
            ts = _ms()
            # BlockingSender.send waits until the broker settles the delivery and raises unless accepted.
            sender.send(Message(body={"run": run, "seq": seq}, durable=True), timeout=timeout_s)
            max_settle = max(max_settle, _ms() - ts)
        details["send_ms"] = round(_ms() - t, 2)
        details["max_settle_ms"] = round(max_settle, 2)

        step = f"receive from {queue}"
        t = _ms()
        bodies: list[Any] = []
        for _ in range(count):
            bodies.append(receiver.receive(timeout=timeout_s).body)
            receiver.accept()  # settle: the broker may now forget it
        details["receive_ms"] = round(_ms() - t, 2)
        details["received"] = len(bodies)  # what the broker delivered, not what was asked for

        step = f"check {queue} is empty"
        extra = _drain(receiver, min(0.5, timeout_s))
        problem = check_sequence(run, bodies + extra, count)
        if problem:
            return fail("amqp", target, started, _ms(), problem, action=step, kind=MISMATCH, details=details,
                        secrets=creds)
        receiver.close()
        sender.close()
        return ProbeResult(probe="amqp", target=target, ok=True, latency_ms=_ms() - started, details=details)
    except LinkDetached as exc:
        return fail("amqp", target, started, _ms(), f"link detached: {exc}", action=step, details=details,
                    secrets=creds)
    except Exception as exc:
        return fail("amqp", target, started, _ms(), f"{type(exc).__name__}: {exc}", action=step, details=details,
                    secrets=creds)
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):  # already closed by the failure being reported
                conn.close()


def _drain(receiver: Any, wait_s: float) -> list[Any]:
    """Whatever else is on the queue within wait_s (should be nothing), accepted."""
    from proton import Timeout

    extra: list[Any] = []
    while True:
        try:
            extra.append(receiver.receive(timeout=wait_s).body)
            receiver.accept()
        except Timeout:
            return extra


def probe_amqp_refused(
    host: str,
    port: int = DEFAULT_PORT,
    *,
    username: str | None = None,
    timeout_s: float = 10.0,
) -> ProbeResult:
    """ok when the broker refuses all of: a wrong password, no credentials, no SASL layer.

    `username` (default `kubegate-probe-nobody`) is tried with a random wrong password. A network
    failure (refused TCP connect, timeout, unknown host) is not a refusal by the broker: not ok.
    details.attempts: per attempt, what answered and the broker's condition.
    """
    target = target_of(host, port)
    user = username or "kubegate-probe-nobody"
    wrong = secrets.token_urlsafe(18)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("wrong password (SASL PLAIN)", {"user": user, "password": wrong, "allowed_mechs": "PLAIN"}),
        ("no credentials (SASL ANONYMOUS)", {"allowed_mechs": "ANONYMOUS"}),
        ("no SASL layer", {"sasl_enabled": False}),
    ]
    started = _ms()
    results: list[dict[str, Any]] = []
    for label, kwargs in attempts:
        t = _ms()
        try:
            conn = _connect(host, port, timeout_s, **kwargs)
        except Exception as exc:
            text = one_line(redact(f"{type(exc).__name__}: {exc}", [wrong]))
            kind = classify_failure(text)
            if "sasl_enabled" in kwargs and SASL_REQUIRED in text:
                kind = "SASL required"  # the broker answered the SASL-less open with its SASL header
            refused = kind in REFUSAL_KINDS or kind == "SASL required"
            results.append({"attempt": label, "refused": refused, "answer": kind, "detail": text,
                            "ms": round(_ms() - t, 2)})
        else:
            conn.close()
            results.append({"attempt": label, "refused": False, "answer": "accepted", "detail": "",
                            "ms": round(_ms() - t, 2)})
    details: dict[str, Any] = {"attempts": results}
    bad = [r for r in results if not r["refused"]]
    if not bad:
        return ProbeResult(probe="amqp-refused", target=target, ok=True, latency_ms=_ms() - started,
                           details=details)
    first = bad[0]
    kind = "accepted" if first["answer"] == "accepted" else first["answer"]
    msg = (f"expected the broker to refuse, got {kind}" if kind == "accepted" else
           f"not a refusal by the broker (amqp:unauthorized-access, SASL auth failure or its SASL header): {kind}") + \
        (f": {first['detail']}" if first["detail"] else "")
    return fail("amqp-refused", target, started, _ms(), msg, action=first["attempt"],
                kind="not refused" if kind == "accepted" else kind, details=details, secrets=[wrong])


def service_connections(endpoints: int) -> int:
    """Connections through a Service so that each of `endpoints` backends (chosen at random by
    kube-proxy) is hit with probability > 99.9 %: n with k * (1 - 1/k)^n < 0.001."""
    if endpoints <= 1:
        return 3
    n = 1
    while endpoints * (1 - 1 / endpoints) ** n >= 0.001:
        n += 1
    return n


def parse_endpoints(text: str) -> dict[str, str]:
    """`ADDR=NAME,ADDR=NAME` (as the suites pass a Service's ready endpoints) -> {addr: name}."""
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        addr, _, name = item.partition("=")
        out[addr] = name or addr
    return out


def probe_amqp_every_endpoint(
    host: str,
    port: int,
    endpoints: dict[str, str],
    *,
    username: str,
    password: str,
    endpoint_port: int | None = None,
    count: int = 5,
    timeout_s: float = 10.0,
) -> ProbeResult:
    """Every backend of a Service answers: each endpoint directly (its pod IP), and enough short
    connections through the Service address that kube-proxy's random choice has reached each.

    One connection through a Service with one dead endpoint among several passes most of the
    time; this fails, and names the endpoint (pod) that did not answer."""
    target = target_of(host, port)
    started = _ms()
    failures: list[str] = []
    per_endpoint: dict[str, Any] = {}
    n = service_connections(len(endpoints))
    direct = sorted(endpoints.items())
    # Independent connections, each with its own proton container: opened side by side, since a
    # broker's SASL handshake, not the traffic, is what each one waits for.
    with ThreadPoolExecutor(max_workers=min(8, len(direct) + n)) as pool:
        direct_results = [pool.submit(probe_amqp, addr, endpoint_port or port, username=username, password=password,
                                      count=count, timeout_s=timeout_s) for addr, _ in direct]
        service_results = [pool.submit(probe_amqp, host, port, username=username, password=password, count=1,
                                       timeout_s=timeout_s) for _ in range(n)]
        for (addr, name), future in zip(direct, direct_results, strict=True):
            res = future.result()
            per_endpoint[name] = {"address": target_of(addr, endpoint_port or port), "ok": res.ok,
                                  "latency_ms": round(res.latency_ms, 2)}
            if not res.ok:
                failures.append(f"endpoint {name} ({target_of(addr, endpoint_port or port)}) directly: {res.error}")
        through: list[bool] = []
        for i, future in enumerate(service_results):
            res = future.result()
            through.append(res.ok)
            if not res.ok:
                failures.append(f"connection {i + 1} of {n} through {target}: {res.error}")
    details: dict[str, Any] = {"endpoints": per_endpoint, "service_connections": n,
                               "service_connections_ok": sum(through)}
    if failures:
        return fail("amqp-endpoints", target, started, _ms(), "; ".join(failures[:4]), action="every endpoint",
                    details=details, secrets=(username, password))
    return ProbeResult(probe="amqp-endpoints", target=target, ok=True, latency_ms=_ms() - started, details=details)
