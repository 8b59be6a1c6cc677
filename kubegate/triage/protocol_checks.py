"""The hop past the TCP handshake: each backend asked directly, with a short deadline, to speak
its protocol (a MongoDB ping, an AMQP protocol header, an HTTP request).

A backend whose process hangs while its listening socket stays open passes "backend direct":
the kernel completes the handshake for it. Only an answer in the protocol tells a live backend
from a hung one. From the backend's own node where there are node shells (past every Service
rule and every other node), else through `kubectl port-forward` to the pod.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from kubegate.collect.runner import Runner
from kubegate.errors import KubegateError
from kubegate.kube.portforward import port_forward
from kubegate.triage.facts import Endpoint, Facts
from kubegate.triage.finding import Finding

DEADLINE_S = 3


def _bson_ping() -> bytes:
    """OP_MSG {ping: 1, $db: "admin"}: what every MongoDB driver sends first (FerretDB answers it too)."""
    body = b"\x10ping\x00" + struct.pack("<i", 1) + b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00"
    doc = struct.pack("<i", len(body) + 5) + body + b"\x00"
    msg = struct.pack("<I", 0) + b"\x00" + doc  # flagBits, section kind 0
    return struct.pack("<iiii", 16 + len(msg), 1, 0, 2013) + msg


def _mongo_reply(reply: bytes) -> bool:
    return len(reply) >= 16 and struct.unpack("<i", reply[12:16])[0] in (1, 2013)  # OP_REPLY, OP_MSG


@dataclass(frozen=True)
class Hello:
    protocol: str
    request: bytes
    understood: Callable[[bytes], bool]  # the reply is this protocol's, not just any bytes


#: by Service name: what kubegate's services speak (a Service of another name gets no protocol hop)
HELLOS = {
    "db": Hello("MongoDB", _bson_ping(), _mongo_reply),
    # AMQP 0-9-1's header: the broker answers with connection.start (a method frame, type 1), or
    # with the header of a version it prefers; either is the broker speaking AMQP
    "msg": Hello("AMQP", b"AMQP\x00\x00\x09\x01", lambda r: r[:1] == b"\x01" or r.startswith(b"AMQP")),
    "web": Hello("HTTP", b"GET /healthz HTTP/1.0\r\nHost: web\r\n\r\n", lambda r: r.startswith(b"HTTP/")),
}


def _printf(data: bytes) -> str:
    return "".join(f"\\x{b:02x}" for b in data)


def _from_node(runner: Runner, node: str, address: str, port: int, hello: Hello) -> tuple[bytes, str]:
    """(reply, the command) from the backend's own node: bash's /dev/tcp, the reply as hex (the
    first read only: `head -c` would wait for bytes a short reply never sends)."""
    cmd = (f"timeout {DEADLINE_S} bash -c 'exec 3<>/dev/tcp/{address}/{port}; printf \"{_printf(hello.request)}\" >&3; "
           f"dd bs=64 count=1 status=none <&3' | od -An -tx1")
    res = runner.node(node, cmd, DEADLINE_S + 10)
    return bytes.fromhex("".join(res.stdout.split())), f"`{hello.protocol} hello to {address}:{port}` on {node}"


def _through_port_forward(runner: Runner, f: Facts, ep: Endpoint, port: int, hello: Hello) -> tuple[bytes, str]:
    provider = getattr(runner, "provider", None)
    if provider is None or not ep.pod:
        raise KubegateError("no kubectl to reach the pod directly")
    with port_forward(provider.kubectl(f.path.namespace), ep.pod, port) as local:
        return _exchange("127.0.0.1", local, hello.request), f"{hello.protocol} hello to pod/{ep.pod} (port-forward)"


def _exchange(host: str, port: int, request: bytes) -> bytes:
    deadline = time.monotonic() + DEADLINE_S
    with socket.create_connection((host, port), timeout=DEADLINE_S) as s:
        s.sendall(request)
        reply = b""
        with contextlib.suppress(TimeoutError, OSError):
            while not reply and time.monotonic() < deadline:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                reply = s.recv(64)
                if not reply:
                    break  # EOF: closed without answering
        return reply


def backend_speaks(runner: Runner, f: Facts, ep: Endpoint) -> Finding:
    hello = HELLOS.get(f.path.service)
    if hello is None:
        return Finding("backend protocol", None, f"no protocol known for Service {f.path.service}")
    port = f.target_port
    if not port:
        return Finding("backend protocol", None, "the Service names no target port")
    who = f"{ep.pod or ep.address} on {ep.node or '?'}"
    try:
        if runner.has_node_shell and ep.node:
            reply, how = _from_node(runner, ep.node, ep.address, port, hello)
        else:
            reply, how = _through_port_forward(runner, f, ep, port, hello)
    except (KubegateError, OSError) as exc:
        return Finding("backend protocol", None, f"could not ask {who} directly: {exc}", ep.node)
    evidence = f"{how} -> " + (reply[:24].hex(" ") if reply else f"nothing within {DEADLINE_S} s")
    if not reply:
        return Finding("backend protocol", False, f"{who} accepts TCP on {ep.address}:{port} but does not answer "
                                                  f"{hello.protocol} within {DEADLINE_S} s (hung?)", ep.node, evidence)
    if not hello.understood(reply):
        return Finding("backend protocol", False, f"{who} answers on {ep.address}:{port}, but not in "
                                                  f"{hello.protocol}", ep.node, evidence)
    return Finding("backend protocol", True, f"{who} answers {hello.protocol}", ep.node, evidence)
