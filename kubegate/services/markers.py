"""Marker databases: what a run writes into db so that `show dbs` must list fresh data.

`show dbs` lists only databases that hold data, so a listing check writes a database of its
own first (named after the run) and then requires that very name. Those databases are test
data, not the service's: the run drops its own at its end, and `kubegate sweep` drops those of
runs that died before they could. Without that every run added two to four databases to db
for good, and each later `show dbs` printed them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kubegate.errors import KubegateError
from kubegate.providers.base import ClusterProvider as ProviderLike

PREFIX = "kg_"
_RUN = re.compile(r"^kg_(\d{8}_\d{6}_[0-9a-f]{4})_")


def marker_name(run_id: str, where: str) -> str:
    """A database name unique to the run and origin (MongoDB names: no dots, < 64 bytes)."""
    return re.sub(r"[^a-z0-9_]", "_", f"{PREFIX}{run_id}_{where}".lower())[:60]


def run_of(database: str) -> str | None:
    """The run id a marker database belongs to (None for any other database)."""
    m = _RUN.match(database)
    return m.group(1).replace("_", "-") if m else None


def drop_markers(host: str, port: int, doomed: Callable[[str], bool], timeout_s: float = 5.0,
                 dry_run: bool = False) -> list[str]:
    """Drop the marker databases `doomed` selects, through db at host:port; their names."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    ms = int(timeout_s * 1000)
    client: MongoClient[dict[str, Any]] = MongoClient(
        host=host, port=port, directConnection=True, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms,
        socketTimeoutMS=ms, appname="kubegate-cleanup")
    try:
        gone = [name for name in client.list_database_names() if run_of(name) and doomed(name)]
        for name in [] if dry_run else gone:
            client.drop_database(name)
        return gone
    except PyMongoError as exc:
        raise KubegateError(f"could not drop marker databases through db at {host}:{port}: "
                            f"{str(exc).splitlines()[0][:200]}") from None
    finally:
        client.close()


def drop_run_markers(host: str, port: int, run_id: str) -> list[str]:
    return drop_markers(host, port, lambda name: run_of(name) == run_id)


def public_db(provider: ProviderLike, namespace: str) -> tuple[str, int]:
    """db's publicIP and port, the address the host reaches it by."""
    svc = provider.kubectl(namespace).get_json("service", "db")
    return provider.public_ip, int(svc["spec"]["ports"][0]["port"])
