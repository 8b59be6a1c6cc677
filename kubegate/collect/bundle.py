"""Assemble one failing test's bundle under one deadline, redacting every file it writes.

Layout (under the test's attachment dir):

    diagnostics/index.txt                       what was collected, skipped or failed, and why
    diagnostics/<ns>/pods.txt                   `get pods -o wide` (the watch's selector)
    diagnostics/<ns>/services.describe.txt
    diagnostics/<ns>/endpoints.yaml, endpointslices.yaml
    diagnostics/<ns>/events.txt                 sorted by time
    diagnostics/<ns>/pod-<name>.describe.txt, .log, .previous.log
    diagnostics/nodes/<node>/journal.txt        kubelet + kube-proxy, last 10 minutes
    diagnostics/nodes/<node>/iptables-nat.txt   NAT rules of the watched Services

Collection problems are recorded in the index and never raised: the bundle exists because
something already failed, and that failure is the one to report.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubegate.collect import describe, events, logs, nodes
from kubegate.collect.items import Item
from kubegate.collect.redact import Redactor, known_secrets
from kubegate.collect.runner import Budget, Result, Runner
from kubegate.collect.watch import Watch
from kubegate.services.deploy import SECRET

BUNDLE_DIR = "diagnostics"
INDEX = "index.txt"
MAX_PODS_PER_WATCH = 10
MAX_NODES = 6
WORKERS = 8


@dataclass
class Entry:
    relpath: str
    label: str
    status: str  # ok | absent | failed | skipped
    seconds: float = 0.0
    note: str = ""


@dataclass
class Bundle:
    root: Path
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def files(self) -> list[tuple[Path, str]]:
        """(path, label) of every file written, the index first."""
        out = [(self.root / INDEX, "diagnostics: index")] if (self.root / INDEX).is_file() else []
        return out + [(self.root / e.relpath, e.label) for e in self.entries
                      if e.status == "ok" and (self.root / e.relpath).is_file()]


class _Writer:
    """Redacts on the way to disk, and refuses writes once the bundle is closed: a command
    that outlives the deadline must not add files nobody will attach."""

    def __init__(self, root: Path, redact: Redactor) -> None:
        self.root = root
        self.redact = redact
        self._lock = threading.Lock()
        self._closed = False

    def write(self, relpath: str, text: str) -> bool:
        clean = self.redact(text)
        with self._lock:
            if self._closed:
                return False
            path = self.root / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(clean, encoding="utf-8")
            return True

    def close(self) -> None:
        with self._lock:
            self._closed = True


def _json(result: Result) -> dict[str, Any]:
    if not result.ok:
        return {}
    try:
        data = json.loads(result.stdout)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _run(runner: Runner, item: Item, budget: Budget) -> Result:
    if item.command[0] == "kubectl":
        return runner.kubectl(list(item.command[1:]), budget.timeout())
    return runner.node(item.command[1], item.command[2], budget.timeout())


def _produce(runner: Runner, item: Item, budget: Budget, writer: _Writer) -> Entry:
    if budget.spent():
        return Entry(item.relpath, item.label, "skipped", note="time budget spent")
    started = time.monotonic()
    res = _run(runner, item, budget)
    took = time.monotonic() - started
    if not res.ok:
        status = "absent" if item.absent and item.absent(res) else "failed"
        return Entry(item.relpath, item.label, status, took, res.error())
    text = res.stdout
    if item.transform:
        try:
            text = item.transform(text)
        except (ValueError, KeyError, TypeError) as exc:
            text = f"(could not format: {exc})\n{text}"
    if not text.strip():
        text = item.empty
    if not writer.write(item.relpath, text):
        return Entry(item.relpath, item.label, "skipped", took, "finished after the time budget")
    return Entry(item.relpath, item.label, "ok", took)


def collect(runner: Runner, watches: list[Watch], root: Path, *, budget_s: float = 30.0,
            services_namespace: str | None = None, title: str = "") -> Bundle:
    """Collect what `watches` name into `root`; returns what was written and what was not."""
    budget = Budget(budget_s)
    root.mkdir(parents=True, exist_ok=True)
    bundle = Bundle(root)
    started = time.time()

    namespaces = list(dict.fromkeys(w.namespace for w in watches))
    redactor = Redactor(known_secrets(runner, budget, services_namespace, SECRET, namespaces))
    writer = _Writer(root, redactor)

    items: list[Item] = []
    pod_nodes: set[str] = set()
    services: set[tuple[str, str]] = set()
    for w in watches:
        if budget.spent():
            bundle.notes.append(f"time budget spent before listing {w.namespace}")
            break
        items += describe.namespace_items(w.namespace, w.selector)
        items.append(events.events_item(w.namespace))
        sel = ["-l", w.selector] if w.selector else []
        pods = _json(runner.kubectl(["get", "pods", "-n", w.namespace, *sel, "-o", "json"], budget.timeout()))
        listed = pods.get("items", [])
        if len(listed) > MAX_PODS_PER_WATCH:
            bundle.notes.append(f"{w.namespace}: {len(listed)} pods match, collected the first {MAX_PODS_PER_WATCH}")
        for pod in listed[:MAX_PODS_PER_WATCH]:
            name = pod["metadata"]["name"]
            items += describe.pod_items(w.namespace, name)
            items += logs.pod_log_items(w.namespace, name)
            if pod.get("spec", {}).get("nodeName"):
                pod_nodes.add(pod["spec"]["nodeName"])
        if w.services:
            services.update((w.namespace, s) for s in w.services)
        else:
            svcs = _json(runner.kubectl(["get", "services", "-n", w.namespace, "-o", "json"], budget.timeout()))
            services.update((w.namespace, s["metadata"]["name"]) for s in svcs.get("items", []))
    items = list({i.relpath: i for i in items}.values())

    node_names: list[str] = []
    if runner.has_node_shell and watches:
        node_names = sorted(pod_nodes)
        if not node_names:
            listed_nodes = _json(runner.kubectl(["get", "nodes", "-o", "json"], budget.timeout()))
            node_names = sorted(n["metadata"]["name"] for n in listed_nodes.get("items", []))
            bundle.notes.append("no pod was scheduled: node state from every node")
        if len(node_names) > MAX_NODES:
            bundle.notes.append(f"{len(node_names)} nodes involved, collected the first {MAX_NODES}")
            node_names = node_names[:MAX_NODES]
        for node in node_names:
            items += nodes.node_items(node, services)
    elif watches:
        bundle.notes.append("node journals and iptables skipped: this provider has no node shell")

    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="kubegate-collect")
    futures: dict[Future[Entry], Item] = {pool.submit(_produce, runner, i, budget, writer): i for i in items}
    done, _ = wait(futures, timeout=max(0.0, budget.remaining()) + 1, return_when=FIRST_EXCEPTION)
    writer.close()
    pool.shutdown(wait=False, cancel_futures=True)
    for fut, item in futures.items():
        if fut in done and fut.exception() is None:
            bundle.entries.append(fut.result())
        elif fut in done:
            bundle.entries.append(Entry(item.relpath, item.label, "failed", note=repr(fut.exception())))
        else:
            bundle.entries.append(Entry(item.relpath, item.label, "skipped", note="still running at the deadline"))
    bundle.entries.sort(key=lambda e: e.relpath)

    lines = [f"kubegate diagnostics: {title}".rstrip(),
             f"collected {time.strftime('%Y-%m-%dT%H:%M:%S%z', time.localtime(started))} "
             f"in {time.time() - started:.1f}s (budget {budget_s:.0f}s)",
             "watches: " + (", ".join(f"{w.namespace}" + (f" [{w.selector}]" if w.selector else "")
                                      for w in watches) or "none"),
             "nodes: " + (", ".join(node_names) or "none"),
             *(f"note: {n}" for n in bundle.notes), "",
             *(f"{e.status:8} {e.seconds:5.1f}s  {e.relpath}" + (f"  ({e.note})" if e.note else "")
               for e in bundle.entries)]
    (root / INDEX).write_text(redactor("\n".join(lines) + "\n"), encoding="utf-8")
    return bundle
