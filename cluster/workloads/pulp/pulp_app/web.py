"""The web API: enqueue a task, read its state and result back, health."""

from __future__ import annotations

from typing import Any

from celery.result import AsyncResult
from flask import Flask, jsonify, request

from pulp_app import tasks

tasks.configure("web")
app = Flask("pulp-web")


@app.post("/tasks")
def submit() -> Any:
    body = request.get_json(silent=True) or {}
    payload = body.get("payload")
    if not isinstance(payload, str) or not payload:
        return jsonify(error="POST a JSON body with a non-empty string `payload`"), 400
    work_s = float(body.get("work_s", 0.0))
    result = tasks.import_unit.delay(payload, work_s)
    return jsonify(id=result.id), 202


@app.get("/tasks/<task_id>")
def state(task_id: str) -> Any:
    result = AsyncResult(task_id, app=tasks.app)
    out: dict[str, Any] = {"id": task_id, "state": result.state}
    if result.successful():
        out["result"] = result.result
    elif result.failed():
        out["error"] = str(result.result)
    return jsonify(out)


@app.get("/healthz")
def healthz() -> Any:
    return jsonify(ok=True)
