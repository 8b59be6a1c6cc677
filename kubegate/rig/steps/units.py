"""Node services that stopped (a kubelet someone stopped, a crashed kube-proxy) are started
again: `kubegate up` repairs a partial cluster, and a unit is part of the cluster."""

from __future__ import annotations

import time

from kubegate.errors import KubegateError
from kubegate.rig.bringup import Context


class RestartStoppedUnits:
    name = "node units"

    def run(self, ctx: Context) -> str:
        restarted: list[str] = []
        started = time.time()
        for node in ctx.spec.nodes:
            units_file = ctx.state / "nodes" / node.name / "units"
            units = units_file.read_text().split() if units_file.is_file() else []
            if not units:
                continue
            # One ssh per node: list the units that are not active, start them, report which.
            script = (f"for u in {' '.join(units)}; do systemctl is-active --quiet $u || "
                      "{ sudo systemctl start $u && echo $u; }; done")
            try:
                out = ctx.machines.node_shell(node.name, script, timeout=60)
            except KubegateError as exc:
                raise KubegateError(f"could not restart stopped units on {node.name}: {exc}") from None
            restarted += [f"{u} on {node.name}" for u in out.split()]
        if not restarted:
            return "all active"
        if not ctx.touched:  # a Ready written by the stopped kubelet proves nothing: wait for a new one
            ctx.started, ctx.touched = started, True
        return "restarted " + ", ".join(restarted)
