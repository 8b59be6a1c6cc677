"""Node services that stopped (a kubelet someone stopped, a crashed kube-proxy) are started
again: `kubegate up` repairs a partial cluster, and a unit is part of the cluster."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from kubegate.errors import KubegateError
from kubegate.rig.bringup import Context


class RestartStoppedUnits:
    name = "node units"

    @staticmethod
    def _restart(ctx: Context, node: str) -> list[str]:
        """One ssh per node: start the units that are stopped (inactive or failed), report which.
        A unit systemd is about to restart (`activating`: a controller-manager that started before
        the API server's RBAC and exited) is not stopped: starting it is no repair."""
        units_file = ctx.state / "nodes" / node / "units"
        units = units_file.read_text().split() if units_file.is_file() else []
        if not units:
            return []
        script = (f"for u in {' '.join(units)}; do case $(systemctl is-active $u) in "
                  "active|activating|reloading) ;; *) sudo systemctl start $u && echo $u;; esac; done; true")
        try:
            out = ctx.machines.node_shell(node, script, timeout=60)
        except KubegateError as exc:
            raise KubegateError(f"could not restart stopped units on {node}: {exc}") from None
        return [f"{u} on {node}" for u in out.split()]

    def run(self, ctx: Context) -> str:
        started = time.time()
        with ThreadPoolExecutor(max_workers=len(ctx.spec.nodes)) as pool:
            per_node = list(pool.map(lambda n: self._restart(ctx, n), [n.name for n in ctx.spec.nodes]))
        restarted = [r for rs in per_node for r in rs]
        if not restarted:
            return "all active"
        if not ctx.touched:  # a Ready written by the stopped kubelet proves nothing: wait for a new one
            ctx.started, ctx.touched = started, True
        ctx.repaired[self.name] = [f"{r}: stopped, restarted" for r in restarted]
        return "restarted " + ", ".join(restarted)
