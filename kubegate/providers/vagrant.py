"""The local cluster on Vagrant machines: a thin provider, as pytest-kubernetes' are.

Vagrant only creates, starts, provisions and destroys machines (`vagrant_machines`); what a
bring-up does is `kubegate.rig.steps.PLAN`, and the machines' logic (what to recreate, stamps,
strays, image stores, node shells) is `kubegate.rig.machines.LocalMachines`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.kube import publicip
from kubegate.kube.topology import WorkerScope
from kubegate.paths import cluster_dir
from kubegate.providers.base import ClusterProvider, ClusterStatus
from kubegate.providers.vagrant_machines import VagrantMachines
from kubegate.registry.local import LocalRegistry
from kubegate.rig import versions
from kubegate.rig.machines import LocalMachines
from kubegate.rig.render import metallb
from kubegate.rig.spec import ClusterSpec
from kubegate.rig.steps import BUILD_PLAN, PLAN


class VagrantProvider(ClusterProvider):
    name = "vagrant"
    has_node_shell = True
    pull_policy = "Never"  # images are imported into every minion's containerd; nothing to pull from

    def __init__(self, root: Path, spec: ClusterSpec | None = None) -> None:
        # The version asked for, else the running cluster's, else the default (exported for the suites).
        self.root, self.spec = root, spec or ClusterSpec(release=versions.settle(cluster_dir(root)))
        self.machines = LocalMachines(root, self.spec, VagrantMachines(root, self.spec), self.kubectl)
        self.state, self.logs = self.machines.state, self.machines.backend.logs

    @property
    def kubeconfig(self) -> Path:
        return self.machines.kubeconfig

    @property
    def public_ip(self) -> str:
        """minion-1's address as the seed's externalIP; in loadbalancer mode the pool's first,
        which MetalLB assigns and a minion's speaker announces."""
        default = (metallb.pool_range(self.spec).split("-")[0] if publicip.mode() == publicip.LOAD_BALANCER
                   else self.spec.minions[0].ip)
        return os.environ.get("KUBEGATE_PUBLIC_IP", default)

    def _images(self) -> dict[str, str]:
        path = self.state / "images.json"
        if not path.is_file():
            raise KubegateError(f"no {path}: run `kubegate up` (or the cluster fixture) first")
        return {k: str(v) for k, v in json.loads(path.read_text()).items()}

    def serving_ca(self) -> tuple[Path, Path]:
        """The cluster CA: what the local rig's clients already trust."""
        return self.state / "pki" / "ca.crt", self.state / "pki" / "ca.key"

    def node_scope(self) -> WorkerScope:
        """The minions this provider brings up and waits for; collection may precede bring-up,
        so they come from the spec, and the suites check the live cluster matches (a minion that
        is not Ready then fails its tests, it is not left out)."""
        return WorkerScope(tuple(m.name for m in self.spec.minions),
                           out_of_scope=((self.spec.master.name, "control plane"),))

    def node_shell(self, node: str, command: str, timeout: float = 60) -> str:
        return self.machines.node_shell(node, command, timeout)

    def up(self) -> None:
        versions.check_running(self.state, self.spec.release)
        self.machines.run_plan("kubegate up", PLAN)
        versions.record(self.state, self.spec.release)

    def build(self, no_cache: bool = False) -> None:
        """Binaries and images without the machines; `no_cache`: every image from the locks anew."""
        self.machines.run_plan("kubegate build", BUILD_PLAN, no_cache=no_cache)

    def down(self, purge: bool = False) -> None:
        registry = LocalRegistry(self.root, self.spec)
        registry.down()  # before the network goes: it listens on the host's address there
        if purge:
            registry.purge()
        self.machines.down(purge)
        versions.record(self.state, None)

    def status(self) -> ClusterStatus:
        machines, ready, problems = self.machines.status()
        summary = f"healthy: {len(machines)} machines running, {len(ready)} minions Ready"
        return ClusterStatus(not problems, "; ".join(problems) or summary, machines, ready, problems)
