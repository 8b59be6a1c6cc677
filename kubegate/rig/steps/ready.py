"""Every minion Ready (after a restart, with a heartbeat from after it), then each minion's
fixed pod range published on its Node object."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubegate.errors import KubegateError
from kubegate.kube.kubectl import Kubectl
from kubegate.rig.bringup import Context

READY_TIMEOUT = float(os.environ.get("KUBEGATE_READY_TIMEOUT", "300"))
LIFECYCLE_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


@dataclass
class ReadyState:
    """What the API says about the minions, as data (callers format it, never parse it)."""

    answered: bool
    ready: list[str] = field(default_factory=list)
    not_registered: list[str] = field(default_factory=list)
    not_ready: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def complete(self) -> bool:
        return self.answered and not self.not_registered and not self.not_ready

    def describe(self) -> str:
        if not self.answered:
            return f"API server not answering: {self.error or '?'}"
        return (f"Ready: {self.ready or 'none'}; not registered: {self.not_registered or 'none'}; "
                f"registered but not Ready: {self.not_ready or 'none'}")


def ready_state(k: Kubectl, want: set[str], since: float | None = None) -> ReadyState:
    res = k.run_e("get", "nodes", "-o", "json", timeout=20)
    if res.returncode != 0:
        err = res.stderr.strip().splitlines()
        return ReadyState(False, error=err[-1] if err else "no answer")
    items: list[dict[str, Any]] = json.loads(res.stdout).get("items", [])
    # Ready, and the node lifecycle controller has lifted its not-ready taint: until then no
    # pod can land there, and the suites' first per-node pod would wait or find none.
    ready = {i["metadata"]["name"] for i in items
             if any(c["type"] == "Ready" and c["status"] == "True" and _after(c, since)
                    for c in i["status"]["conditions"])
             and not any(t.get("key") in LIFECYCLE_TAINTS for t in i.get("spec", {}).get("taints") or [])}
    seen = {i["metadata"]["name"] for i in items}
    return ReadyState(True, sorted(ready & want), sorted(want - seen), sorted((want & seen) - ready))


def wait_ready(k: Kubectl, want: set[str], timeout: float, since: float | None = None,
               hint: str = "") -> ReadyState:
    deadline = time.monotonic() + timeout
    while True:
        state = ready_state(k, want, since)
        if state.complete:
            return state
        if time.monotonic() > deadline:
            stuck = [*state.not_ready, *state.not_registered]
            raise KubegateError(f"minions not Ready after {int(timeout)}s: {state.describe()}"
                                + (hint.format(node=stuck[0]) if stuck and hint else ""))
        time.sleep(2)


def _after(condition: dict[str, str], since: float | None) -> bool:
    if since is None:
        return True
    beat = condition.get("lastHeartbeatTime", "")
    try:
        return datetime.strptime(beat, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() >= since - 1
    except ValueError:
        return False


def publish_pod_cidrs(k: Kubectl, ctx: Context) -> None:
    """Record each minion's pod range in its Node object, as a controller-manager that allocates
    node CIDRs would: the ranges are fixed by the spec (CNI host-local, static routes), and
    clients of the API (suites, kube-proxy, upstream's e2e) read them there. A Node's podCIDR
    can be set once, so only unset ones are patched."""
    nodes = {n["metadata"]["name"]: n for n in k.get_json("nodes")["items"]}
    for m in ctx.spec.minions:
        node = nodes.get(m.name)
        if node is not None and m.pod_cidr and not node["spec"].get("podCIDR"):
            k.run("patch", "node", m.name, "--type=merge", "-p",
                  json.dumps({"spec": {"podCIDR": m.pod_cidr, "podCIDRs": [m.pod_cidr]}}))


class WaitReady:
    name = "nodes Ready"

    def run(self, ctx: Context) -> str:
        k = ctx.machines.kubectl()
        want = {m.name for m in ctx.spec.minions}
        # After machines were (re)started, a Ready status written by their previous kubelet
        # proves nothing: wait for a heartbeat from after the start.
        state = wait_ready(k, want, READY_TIMEOUT, since=ctx.started if ctx.touched else None,
                           hint="; inspect with: vagrant ssh {node} -c 'sudo journalctl -u kubelet -n 50'")
        publish_pod_cidrs(k, ctx)
        return f"{len(state.ready)} Ready: {', '.join(state.ready)}"
