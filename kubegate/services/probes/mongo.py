"""MongoDB wire-protocol probe (pymongo): list databases, write a document, read it back.

Works against FerretDB (kubegate's `db` image) and the official `mongo` image alike: it uses
only `ping`, `listDatabases`, `insert` and `find`.
"""

from __future__ import annotations

import socket
import time
import uuid
from typing import Any

from .result import MISMATCH, ProbeResult, fail, origin, target_of

DEFAULT_PORT = 27017


def _ms() -> float:
    return time.monotonic() * 1000.0


def resolved(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to here (the cluster's DNS for a Service name; an address
    resolves to itself): what a test compares with the Service, not the name it passed in."""
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
    except OSError:
        return []


def probe_mongo(
    host: str,
    port: int = DEFAULT_PORT,
    *,
    database: str = "kubegate",
    collection: str = "probe",
    timeout_s: float = 5.0,
    read_id: str | None = None,
) -> ProbeResult:
    """Connect, `list_database_names`, insert one document into database.collection, read it back.

    Every network step is bounded by `timeout_s` (server selection, connect and socket timeouts).
    details: databases, inserted_id, and per-step latencies (connect_ms, list_ms, write_ms, read_ms).
    """
    from pymongo import MongoClient  # imported here so `--help` and result formatting need no pymongo

    target = target_of(host, port)
    timeout_ms = max(1, int(timeout_s * 1000))
    started = _ms()
    details: dict[str, Any] = {"database": database, "collection": collection}
    step = "connect"
    client: Any = None
    try:
        client = MongoClient(
            host=host,
            port=port,
            directConnection=True,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=timeout_ms,
            appname="kubegate-probe",
        )
        t = _ms()
        client.admin.command("ping")
        details["connect_ms"] = round(_ms() - t, 2)
        details["resolved"] = resolved(host, port)

        step = "listDatabases"
        t = _ms()
        details["databases"] = sorted(client.list_database_names())
        details["list_ms"] = round(_ms() - t, 2)

        if read_id is not None:
            step = f"find {read_id} in {database}.{collection}"
            t = _ms()
            found = client[database][collection].find_one({"_id": read_id})
            details["read_ms"] = round(_ms() - t, 2)
            if found is None:
                return fail("mongo", target, started, _ms(), f"document {read_id} not found", action=step,
                            kind=MISMATCH, details=details)
            details["read_from"] = found.get("from")
            return ProbeResult(probe="mongo", target=target, ok=True, latency_ms=_ms() - started, details=details)

        step = f"insert into {database}.{collection}"
        doc = {"_id": f"probe-{uuid.uuid4().hex}", "from": origin(), "written_at": time.time()}
        t = _ms()
        client[database][collection].insert_one(doc)
        details["write_ms"] = round(_ms() - t, 2)
        details["inserted_id"] = doc["_id"]

        step = f"find in {database}.{collection}"
        t = _ms()
        back = client[database][collection].find_one({"_id": doc["_id"]})
        details["read_ms"] = round(_ms() - t, 2)
        if back is None or back.get("written_at") != doc["written_at"] or back.get("from") != doc["from"]:
            return fail("mongo", target, started, _ms(), f"read back {back!r} instead of {doc!r}",
                        action=step, kind=MISMATCH, details=details)
        return ProbeResult(probe="mongo", target=target, ok=True, latency_ms=_ms() - started, details=details)
    except Exception as exc:  # every failure becomes a one-line result, never a traceback
        # pymongo appends its timeouts and a topology dump; the first part says what answered.
        text = str(exc).split(" (configured timeouts")[0].split(", Timeout: ")[0]
        return fail("mongo", target, started, _ms(), f"{type(exc).__name__}: {text}", action=step, details=details)
    finally:
        if client is not None:
            client.close()
