"""The seed's consumers at work: Celery workers and beat, and the web API on the publicIP.

The providers are proven by real consumers using them the way the seed intended: tasks
submitted over HTTPS (verified against the CA kubegate serves with: the cluster CA on the
local rig) go through `msg` to the workers, which write content units into `db` and report
results through it. Every task completes exactly once, work spreads over the nodes, a lost
worker's tasks are redelivered, and beat ticks on schedule.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from pymongo import MongoClient

from kubegate.kube import objects
from kubegate.kube.kubectl import Kubectl
from kubegate.providers.base import ClusterProvider
from kubegate.pytest.settings import Settings
from kubegate.report import current
from kubegate.services.app import App, wait_ready_pods
from kubegate.services.deploy import Deployment
from kubegate.wait import until

pytestmark = [pytest.mark.connectivity, pytest.mark.usefixtures("services_stay_up", "app_in_use")]

DONE = ("SUCCESS", "FAILURE")
POLL_WIDTH = 8  # GET /tasks/<id> in flight at once


def _session(app: App) -> requests.Session:
    s = requests.Session()
    s.verify = str(app.ca_file)
    s.trust_env = False  # the publicIP is this host's neighbour: never through a proxy
    return s


#: Every task this module submitted: its documents are deleted when the module ends.
SUBMITTED: list[str] = []


def submit(s: requests.Session, base: str, payloads: list[str], work_s: float = 0.0) -> dict[str, float]:
    """task id -> when it was submitted; threads keep N >= 200 quick over one host's HTTPS."""
    def one(payload: str) -> tuple[str, float]:
        started = time.time()
        r = s.post(f"{base}/tasks", json={"payload": payload, "work_s": work_s}, timeout=30)
        assert r.status_code == 202, f"POST {base}/tasks: {r.status_code} {r.text[:200]}"
        SUBMITTED.append(r.json()["id"])
        return r.json()["id"], started
    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(one, payloads))


@pytest.fixture(scope="module", autouse=True)
def _forget_our_tasks(services: Deployment) -> Iterator[None]:
    """The app keeps what its tasks write; these are test data. Left in db, every run added
    about 700 documents and the app slowed down: 20 tasks took 4.2 s with about a thousand
    documents in each of its collections, 0.3-0.5 s once they were emptied. Only this run's
    tasks are deleted (a concurrent run's are not ours)."""
    yield
    ids, SUBMITTED[:] = list(SUBMITTED), []
    with pulp_db(services) as db:
        for i in range(0, len(ids), 100):
            chunk = ids[i:i + 100]
            db["units"].delete_many({"_id": {"$in": chunk}})
            db["executions"].delete_many({"task": {"$in": chunk}})
            db["task_results"].delete_many({"_id": {"$in": chunk}})


def wait_done(s: requests.Session, base: str, ids: list[str], timeout: float = 180) -> dict[str, dict[str, Any]]:
    """Poll GET /tasks/<id> until every task is done; returns the API's view of each.

    Only the oldest pending tasks (`ids` in submission order) are asked about in each round:
    asking about all 200 every half second kept db busier than the workers' own writes and
    made the load test measure our polling."""
    pending, done = list(ids), {}
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(POLL_WIDTH) as pool:
        while pending and time.monotonic() < deadline:
            def one(task: str) -> tuple[str, dict[str, Any]]:
                return task, s.get(f"{base}/tasks/{task}", timeout=30).json()
            finished = {task: view for task, view in pool.map(one, pending[:POLL_WIDTH]) if view["state"] in DONE}
            done.update(finished)
            pending = [task for task in pending if task not in finished]
            if pending and len(finished) < POLL_WIDTH:
                time.sleep(0.2)
    assert not pending, f"{len(pending)} of {len(ids)} tasks not done after {timeout:.0f} s, e.g. {pending[:3]}"
    return done


@contextlib.contextmanager
def pulp_db(services: Deployment) -> Iterator[Any]:
    """The app's database in db, from the host through db's publicIP."""
    with MongoClient(f"mongodb://{services.public_ip}:{services.ports['db']}/", serverSelectionTimeoutMS=5000) as c:
        yield c["pulp"]


def units(services: Deployment, payload_prefix: str) -> list[dict[str, Any]]:
    with pulp_db(services) as db:
        return list(db["units"].find({"payload": {"$regex": f"^{payload_prefix}"}}))


def executions(db: Any, task_ids: list[str]) -> list[dict[str, Any]]:
    return list(db["executions"].find({"task": {"$in": task_ids}}))


def _one_unit_each(services: Deployment, prefix: str, ids: dict[str, float], done: dict[str, dict[str, Any]]) -> None:
    """Every task succeeded and left exactly one unit: the effect, which the app's idempotent
    write keeps single even when a task ran twice (at least once, one effect)."""
    failed = {t: v for t, v in done.items() if v["state"] != "SUCCESS"}
    assert not failed, f"{len(failed)} tasks failed, e.g. {next(iter(failed.values()))}"
    assert {v["result"]["id"] for v in done.values()} == set(ids), "a result names another task"
    found = units(services, prefix)
    assert len(found) == len(ids), f"{len(found)} content units in db for {len(ids)} tasks"
    assert {u["_id"] for u in found} == set(ids), "units in db do not match the submitted tasks one to one"


def twice_or_never(runs: list[dict[str, Any]], ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """task id -> its executions, for every task that did not run exactly once to completion."""
    by_task: dict[str, list[dict[str, Any]]] = {t: [] for t in ids}
    for run in runs:
        by_task.setdefault(run["task"], []).append(run)
    return {t: r for t, r in by_task.items() if len(r) != 1 or not r[0].get("finished")}


def _show(runs: list[dict[str, Any]]) -> str:
    return "; ".join(f"{r.get('worker')} on {r.get('node')} started {r.get('started')} finished {r.get('finished')}"
                     for r in runs) or "never ran"


def _exactly_once(services: Deployment, prefix: str, ids: dict[str, float], done: dict[str, dict[str, Any]]) -> None:
    """Exactly once means one execution per task, read from the app's own execution log (a second
    run would leave the one unit unchanged), and one unit."""
    _one_unit_each(services, prefix, ids, done)
    with pulp_db(services) as db:
        bad = twice_or_never(executions(db, list(ids)), list(ids))
    assert not bad, (f"{len(bad)} of {len(ids)} tasks did not run exactly once: "
                     + " | ".join(f"task {t}: {len(r)} executions: {_show(r)}" for t, r in list(bad.items())[:3]))


@pytest.mark.smoke
@pytest.mark.triage("web", "msg", "db")  # through the publicIP, then what the app depends on
def test_tasks_complete_exactly_once_via_public_ip_https(app: App, services: Deployment, settings: Settings) -> None:
    """The smoke slice: 20 tasks over HTTPS, certificate verified against the CA."""
    prefix = f"smoke-{settings.run_id}-"
    with _session(app) as s:
        ids = submit(s, app.https, [f"{prefix}{i}" for i in range(20)])
        done = wait_done(s, app.https, list(ids))
    _exactly_once(services, prefix, ids, done)


def test_exactly_once_check_sees_a_task_that_ran_twice(app: App, services: Deployment, settings: Settings,
                                                       cluster: ClusterProvider) -> None:
    """The check the tests above rely on reads executions, not only units: one task message
    published twice with the same task id (no fault anywhere; the app's own Celery client in the
    web pod) runs twice and leaves one unit, and the check fails naming the task and both runs."""
    k = cluster.kubectl(app.namespace)
    web = next(p["metadata"]["name"] for p in k.get_json("pods", "-l", "name=pulp-web")["items"]
               if not p["metadata"].get("deletionTimestamp"))
    task, prefix = f"twice-{settings.run_id}", f"twice-{settings.run_id}-"
    SUBMITTED.append(task)
    publish = ("from pulp_app import tasks\ntasks.configure('web')\nfor _ in range(2):\n"
               f"    tasks.import_unit.apply_async(args=['{prefix}0', 0.0], task_id='{task}')\n")
    k.run("exec", web, "--", "python3", "-c", publish, timeout=60)
    with _session(app) as s:
        done = wait_done(s, app.https, [task])
    with pulp_db(services) as db:
        runs = until(lambda: [r for r in executions(db, [task]) if r["finished"]][1:] and executions(db, [task]),
                     timeout=60, every=0.5)
    assert runs and len(runs) == 2, f"the task published twice ran {len(runs or [])} times: {runs}"
    with pytest.raises(AssertionError) as caught:
        _exactly_once(services, prefix, {task: 0.0}, done)
    assert f"task {task}: 2 executions" in str(caught.value), caught.value


@pytest.mark.triage("web", "msg", "db")
def test_throughput_and_spread_over_the_workers(app: App, services: Deployment, settings: Settings,
                                                cluster: ClusterProvider) -> None:
    """200 tasks: all complete once, and each of the three workers, on different nodes, did some."""
    n, prefix = 200, f"load-{settings.run_id}-"
    with _session(app) as s:
        t0 = time.time()
        ids = submit(s, app.https, [f"{prefix}{i}" for i in range(n)])
        done = wait_done(s, app.https, list(ids))
        elapsed = time.time() - t0
    _exactly_once(services, prefix, ids, done)
    by_unit = {u["_id"]: u for u in units(services, prefix)}
    latencies = sorted(by_unit[t]["at"].timestamp() - submitted for t, submitted in ids.items())
    p95 = latencies[int(0.95 * len(latencies)) - 1]
    current().add_fact("pulp app throughput", f"{n} tasks in {elapsed:.1f} s = {n / elapsed:.1f} tasks/s via "
                       f"{app.https}; unit written after median {statistics.median(latencies) * 1000:.0f} ms, "
                       f"p95 {p95 * 1000:.0f} ms")
    workers = cluster.kubectl(app.namespace).get_json("pods", "-l", "name=pulp-worker")["items"]
    live = {p["metadata"]["name"]: p["spec"].get("nodeName") for p in workers
            if not p["metadata"].get("deletionTimestamp")}
    did = {u["worker"] for u in by_unit.values()}
    nodes = {u["node"] for u in by_unit.values()}
    assert set(live) <= did, f"workers that processed none of {n} tasks: {sorted(set(live) - did)}"
    want_nodes = min(3, len(set(live.values())))
    assert len(nodes) >= want_nodes, \
        f"work ran on nodes {sorted(nodes)}; the workers are on {sorted(set(live.values()))}"


@pytest.mark.triage("web", "msg", "db")
def test_plain_http_on_port_80(app: App, services: Deployment, settings: Settings) -> None:
    prefix = f"http-{settings.run_id}-"
    with requests.Session() as s:
        s.trust_env = False
        assert s.get(f"{app.http}/healthz", timeout=10).json() == {"ok": True}
        ids = submit(s, app.http, [f"{prefix}{i}" for i in range(5)])
        done = wait_done(s, app.http, list(ids))
    _exactly_once(services, prefix, ids, done)


WINDOW_S = 10.0


def _fresh_tick(db: Any, timeout: float = 60) -> dt.datetime:
    """When the first tick newer than any in db ran: proof that beat -> msg -> a worker -> db
    works now. After a disruptive test moved msg (another xdist worker's), beat and the workers
    reconnect over a few seconds, and a window opened before that saw one tick in ten seconds."""
    newest = db["ticks"].find_one(sort=[("at", -1)])
    after = newest["at"] if newest else dt.datetime.min
    tick = until(lambda: db["ticks"].find_one({"at": {"$gt": after}}, sort=[("at", 1)]), timeout=timeout, every=0.2)
    if tick is None:
        pytest.fail(f"no tick reached db within {timeout:.0f} s: beat, msg or every worker is down", pytrace=False)
    return tick["at"]  # type: ignore[no-any-return]


def test_beat_ticks_on_schedule(services: Deployment, app: App, quiet_app: None) -> None:
    """One beat, a tick every 2 s: the 10 s from a fresh tick hold it and 4 more (one either
    way for timing), which a period of 1.66 s or less (7 or more), 3.34 s or more (3 or fewer)
    or a second beat cannot. Times are the workers' own (the window starts at a tick), so the
    host's clock does not enter. (A 6 s window with 2-4 ticks was tried and dropped: it let a
    5 s period pass.)"""
    with pulp_db(services) as db:
        first = _fresh_tick(db)
        time.sleep(WINDOW_S + 0.5)
        count = db["ticks"].count_documents({"at": {"$gte": first, "$lt": first + dt.timedelta(seconds=WINDOW_S)}})
    assert 4 <= count <= 6, (f"{count} ticks in the {WINDOW_S:.0f} s from {first:%H:%M:%S.%f}; "
                             "beat schedules one every 2 s")


def test_worker_lost_holding_a_task_is_rerun_on_another_worker_with_one_unit(
        app: App, services: Deployment, settings: Settings, cluster: ClusterProvider, quiet_app: None) -> None:
    """A worker killed mid-task (no grace): its task goes back to the broker, another worker
    runs it again, and it still yields exactly one unit; nothing is lost. The claim is at least
    once with one effect (the app's write is idempotent), not exactly once: the killed run counts. Only the app is
    disrupted, so the test holds the app alone (not the whole cluster: db and msg keep serving
    other xdist workers) and leaves it with three Ready workers."""
    k = cluster.kubectl(app.namespace)
    prefix = f"lost-{settings.run_id}-"
    with _session(app) as s:
        # Long enough that the kill (the kubelet stops the container within a second or two)
        # lands mid-task; six tasks keep every worker busy (two slots each on these nodes).
        ids = submit(s, app.https, [f"{prefix}{i}" for i in range(6)], work_s=5.0)
        victim, task = _a_worker_holding_a_task(services, list(ids))
        killed = time.time()
        k.run("delete", "pod", victim, "--grace-period=0", "--force", "--wait=false")
        done = wait_done(s, app.https, list(ids), timeout=240)
        recovered = time.time() - killed
    _one_unit_each(services, prefix, ids, done)
    with pulp_db(services) as db:
        runs = executions(db, [task])
    assert len(runs) >= 2 and any(e["worker"] != victim and e["finished"] for e in runs), (
        f"task {task}, running on {victim} when it was killed, was not run again on another worker: {_show(runs)}")
    current().add_fact("pulp worker lost", f"all {len(ids)} tasks done {recovered:.1f} s after a worker was killed "
                       f"mid-task; its task rerun by {done[task]['result']['worker']}")
    wait_ready_pods(k, "pulp-worker", 3)


def _a_worker_holding_a_task(services: Deployment, ids: list[str], timeout: float = 30) -> tuple[str, str]:
    with pulp_db(services) as db:
        running = until(lambda: [e for e in executions(db, ids) if not e["finished"]] or None, timeout=timeout,
                        every=0.2)
    if not running:
        raise AssertionError(f"no worker started any of {len(ids)} tasks within {timeout:.0f} s")
    return running[0]["worker"], running[0]["task"]


def test_consumer_created_before_the_services_says_so_then_works(
        cluster: ClusterProvider, services: Deployment, app: App, run_namespace: Callable[[str], str],
        services_kubectl: Kubectl) -> None:
    """The seed's ordering caveat, on a real consumer: in a namespace without db/msg Services a
    worker stops with one line naming the missing variable; recreated after the Services exist
    (selectorless, backed by the real db/msg endpoints) it connects and becomes Ready."""
    ns = run_namespace("kg-order-app")
    k = cluster.kubectl(ns)
    image = cluster.images()["pulp"]
    user, password = services.credentials
    k.run("create", "secret", "generic", "msg-credentials", f"--from-literal=username={user}",
          f"--from-literal=password={password}")
    pod = _worker_pod(image, cluster.pull_policy)
    k.apply(json.dumps(pod))
    line = _first_log_line(k, "early-worker")
    assert line.startswith("pulp-worker: ") and "_SERVICE_HOST is not set" in line, line
    k.run("delete", "pod", "early-worker", "--wait=true")
    for name in ("db", "msg"):
        src = services_kubectl.get_json("endpointslices", "-l", f"kubernetes.io/service-name={name}")["items"]
        port = services.ports[name]
        k.apply(json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                            "spec": {"ports": [{"port": port, "protocol": "TCP"}]}}))
        k.apply(json.dumps({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                            "metadata": {"name": f"{name}-real", "labels": {"kubernetes.io/service-name": name}},
                            "addressType": "IPv4", "ports": [{"port": src[0]["ports"][0]["port"], "protocol": "TCP"}],
                            "endpoints": [{"addresses": e["addresses"]} for s in src for e in s["endpoints"]]}))
    k.apply(json.dumps(pod))
    k.wait("pod/early-worker", "condition=Ready", timeout=120)


def _worker_pod(image: str, pull: str) -> dict[str, Any]:
    env = [{"name": n, "valueFrom": {"secretKeyRef": {"name": "msg-credentials", "key": k}}}
           for n, k in (("MSG_USERNAME", "username"), ("MSG_PASSWORD", "password"))]
    return objects.pod("early-worker", image, args=["worker"], container="worker", labels={"app": "early"}, env=env,
                       pull=pull, readiness={"exec": {"command": ["test", "-f", "/tmp/pulp-worker-ready"]},
                                             "periodSeconds": 2})


#: what the kubelet answers, as the log itself, for an attempt whose log file is already gone
#: (a crash-looping container's previous attempt, removed by the kubelet's container GC)
_NO_LOG = "unable to retrieve container logs for "


def _first_log_line(k: Kubectl, pod: str, timeout: float = 60) -> str:
    """The first line an attempt of the pod's container wrote (each attempt writes the same one):
    the current attempt's, else the previous one's while the container waits to restart."""
    def first() -> str | None:
        attempts = [("logs", pod), ("logs", pod, "--previous")] if _restarted(k, pod) else [("logs", pod)]
        for args in attempts:
            res = k.run_e(*args)
            line = next((ln for ln in res.stdout.splitlines() if ln.strip()), None)
            if res.returncode == 0 and line is not None and not line.startswith(_NO_LOG):
                return line
        return None

    line = until(first, timeout=timeout, every=1)
    if line is not None:
        return line
    raise AssertionError(f"{pod} wrote nothing within {timeout:.0f} s")


def _restarted(k: Kubectl, pod: str) -> bool:
    st = k.get_json("pod", pod).get("status", {}).get("containerStatuses") or []
    return bool(st and st[0].get("restartCount"))
