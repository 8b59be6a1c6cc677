"""Every minion Ready (after a restart, with a heartbeat from after it), then each minion's
fixed pod range published on its Node object."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubegate.errors import KubegateError
from kubegate.kube import topology
from kubegate.kube.kubectl import Kubectl
from kubegate.rig.bringup import Context
from kubegate.wait import poll

READY_TIMEOUT = float(os.environ.get("KUBEGATE_READY_TIMEOUT", "300"))
STUCK_EVERY_S = 10.0
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
               hint: str = "", stuck: Callable[[list[str]], str] | None = None) -> ReadyState:
    """Poll until every wanted node is Ready; `stuck(not_ready)` is asked every STUCK_EVERY_S
    for a reason they never will be (a kubelet that is not running), which ends the wait early."""
    started = time.monotonic()
    asked = started
    state = ReadyState(False, [], sorted(want), [])

    def check() -> ReadyState | None:
        nonlocal asked, state
        state = ready_state(k, want, since)
        if state.complete:
            return state
        if stuck is not None and state.not_ready and time.monotonic() - asked >= STUCK_EVERY_S:
            asked = time.monotonic()
            why = stuck(state.not_ready)
            if why:
                raise KubegateError(f"minions not Ready after {time.monotonic() - started:.0f}s and will not be: "
                                    f"{why}")
        return None

    def describe(_: float) -> str:
        missing = [*state.not_ready, *state.not_registered]
        return (f"minions not Ready after {int(timeout)}s: {state.describe()}"
                + (hint.format(node=missing[0]) if missing and hint else ""))

    return poll(check, timeout=timeout, every=2, describe=describe)


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
    nodes = {n["metadata"]["name"]: n for n in topology.read_nodes(k)}
    for m in ctx.spec.minions:
        node = nodes.get(m.name)
        if node is not None and m.pod_cidr and not node["spec"].get("podCIDR"):
            k.run("patch", "node", m.name, "--type=merge", "-p",
                  json.dumps({"spec": {"podCIDR": m.pod_cidr, "podCIDRs": [m.pod_cidr]}}))


def kubelet_down(ctx: Context, nodes: list[str]) -> str:
    """The first of `nodes` whose kubelet is not running, with the journal's last word on it."""
    for node in nodes:
        try:
            state = ctx.machines.node_shell(node, "systemctl is-active kubelet || true", timeout=15).strip()
        except KubegateError:
            continue  # no shell now: let the wait run its course
        if state not in ("active", "activating"):
            try:
                last = ctx.machines.node_shell(node, "sudo journalctl -u kubelet -n 1 --no-pager -o cat || true",
                                               timeout=15).strip()
            except KubegateError:
                last = ""
            return (f"kubelet {state} on {node}" + (f" ({last[-200:]})" if last else "")
                    + f"; inspect with: vagrant ssh {node} -c 'sudo journalctl -u kubelet -n 50'")
    return ""


class WaitReady:
    name = "nodes Ready"

    def run(self, ctx: Context) -> str:
        k = ctx.machines.kubectl()
        want = {m.name for m in ctx.spec.minions}
        # After machines were (re)started, a Ready status written by their previous kubelet
        # proves nothing: wait for a heartbeat from after the start.
        state = wait_ready(k, want, READY_TIMEOUT, since=ctx.started if ctx.touched else None,
                           hint="; inspect with: vagrant ssh {node} -c 'sudo journalctl -u kubelet -n 50'",
                           stuck=lambda nodes: kubelet_down(ctx, nodes))
        publish_pod_cidrs(k, ctx)
        return f"{len(state.ready)} Ready: {', '.join(state.ready)}"
