"""The Celery application: a content-unit import task and beat's periodic tick.

Tasks are acknowledged late and rejected when their worker is lost, so a worker that dies
holding a task gives it back to the broker; the unit's document is keyed by the task id,
so a redelivered task cannot write a second one. Every execution is also logged (started,
finished) so a redelivery is visible, not just its absence of harm.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from pathlib import Path
from typing import Any

from celery import Celery, signals
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError

from pulp_app.settings import DATABASE, from_env

TICK_S = 2.0
READY_FILE = Path("/tmp/pulp-worker-ready")

app = Celery("pulp")
_settings = None
_client: MongoClient[dict[str, Any]] | None = None


def configure(role: str) -> None:
    global _settings
    _settings = from_env(role)
    app.conf.update(
        broker_url=_settings.broker_url,
        result_backend=_settings.backend_url,
        mongodb_backend_settings={"database": DATABASE, "taskmeta_collection": "task_results"},
        task_default_queue="pulp",
        # Not Celery's default (an exchange named like the queue): Celery publishes to the
        # default exchange with the queue's name as routing key, and Broker-J 9.2 resolves that
        # name to a same-named exchange before the queue, where the message matches no binding
        # and is dropped. Every task of a default-configured Celery app is lost that way.
        task_default_exchange="pulp.tasks",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_track_started=True,
        worker_prefetch_multiplier=1,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        broker_connection_retry_on_startup=True,
        # Publisher confirms: a publish the broker did not take raises instead of vanishing
        # (without them a channel the broker closed swallows every later publish silently).
        broker_transport_options={"confirm_publish": True},
        result_extended=True,
        beat_schedule={"tick": {"task": "pulp.tick", "schedule": TICK_S}},
        timezone="UTC",
    )


def db() -> Any:
    global _client
    if _client is None:
        assert _settings is not None
        _client = MongoClient(_settings.db_url, serverSelectionTimeoutMS=5000)
    return _client[DATABASE]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@app.task(name="pulp.import_unit", bind=True)
def import_unit(self: Any, payload: str, work_s: float = 0.0) -> dict[str, str]:
    assert _settings is not None
    run = db()["executions"].insert_one({"task": self.request.id, "worker": _settings.hostname,
                                         "node": _settings.node, "started": _now(), "finished": None})
    time.sleep(work_s)
    # A redelivered task whose first run already wrote the unit: still exactly one.
    with contextlib.suppress(DuplicateKeyError):
        db()["units"].insert_one({"_id": self.request.id, "payload": payload, "worker": _settings.hostname,
                                  "node": _settings.node, "at": _now()})
    db()["executions"].update_one({"_id": run.inserted_id}, {"$set": {"finished": _now()}})
    return {"id": self.request.id, "worker": _settings.hostname, "node": _settings.node}


#: Ticks older than this are pruned by the next tick. Beat runs as long as the app does: kept
#: whole, its log (and a result per tick) grew by 86,000 documents a day, and FerretDB's
#: writes slowed with every thousand.
TICKS_KEPT = dt.timedelta(minutes=5)


@app.task(name="pulp.tick", ignore_result=True)
def tick() -> str:
    assert _settings is not None
    now = _now()
    db()["ticks"].insert_one({"at": now, "worker": _settings.hostname})
    db()["ticks"].delete_many({"at": {"$lt": now - TICKS_KEPT}})
    return "tick"


@signals.before_task_publish.connect
def _drop_empty_stamps(headers: dict[str, Any], **_: Any) -> None:
    """Celery 5.3+ sends every task with the header `stamps: {}`. Qpid Broker-J 9.2 takes a message
    whose header holds an empty field table for malformed and deletes it unseen (at delivery or
    its next housekeeping): every task would vanish from the queue. An empty `stamps` says nothing,
    so it is left out (Celery reads a missing one as none)."""
    if headers.get("stamps") == {}:
        del headers["stamps"]


@signals.worker_ready.connect
def _ready(**_: Any) -> None:
    READY_FILE.write_text("ready\n")  # the readiness probe: connected to the broker, consuming


@signals.worker_shutdown.connect
def _not_ready(**_: Any) -> None:
    READY_FILE.unlink(missing_ok=True)
