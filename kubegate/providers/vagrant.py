"""The local cluster on Vagrant machines (docker provider here; libvirt and VirtualBox in the
Vagrantfile), driven through python-vagrant: a thin backend, as pytest-kubernetes' providers.

Vagrant only creates, starts, provisions and destroys machines (`VagrantMachines`); what a
bring-up does is `kubegate.rig.steps.PLAN`, and the machines' logic (what to recreate, stamps,
strays, image stores, node shells) is `kubegate.rig.machines.LocalMachines`.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import vagrant

from kubegate.errors import KubegateError
from kubegate.paths import cluster_dir
from kubegate.providers.base import ClusterProvider, ClusterStatus
from kubegate.registry.local import LocalRegistry
from kubegate.rig.machines import LocalMachines
from kubegate.rig.spec import ClusterSpec
from kubegate.rig.steps import BUILD_PLAN, PLAN


class VagrantMachines:
    """The rig's MachineBackend on Vagrant; each call's output in its own log."""

    def __init__(self, root: Path, spec: ClusterSpec) -> None:
        self.root, self.names = root, [n.name for n in spec.nodes]
        self.logs = cluster_dir(root) / "logs"
        self.network = f"vagrant_network_{spec.network}"

    def _vagrant(self, log: str) -> vagrant.Vagrant:
        self.logs.mkdir(parents=True, exist_ok=True)
        cm = vagrant.make_file_cm(str(self.logs / log))
        env = {**os.environ, "VAGRANT_DEFAULT_PROVIDER": os.environ.get("VAGRANT_DEFAULT_PROVIDER", "docker")}
        return vagrant.Vagrant(root=str(self.root), out_cm=cm, err_cm=cm, env=env)

    def _machine_file(self, name: str, file: str) -> Path:
        return self.root / ".vagrant" / "machines" / name / "docker" / file

    def states(self) -> dict[str, str]:
        return {s.name: s.state for s in self._vagrant("vagrant-status.log").status()}

    def container_ids(self) -> dict[str, str]:
        files = {n: self._machine_file(n, "id") for n in self.names}
        return {n: f.read_text().strip() if f.is_file() else "" for n, f in files.items()}

    def inserted_keys(self) -> dict[str, Path]:
        return {n: self._machine_file(n, "private_key") for n in self.names}

    def up(self, names: list[str] | None = None) -> None:
        v = self._vagrant("vagrant-up.log")
        try:
            if names is None:
                v.up()  # Vagrant brings machines up in parallel on the docker provider
            else:
                with ThreadPoolExecutor(max_workers=len(names)) as pool:
                    list(pool.map(lambda n: v.up(vm_name=n), names))
        except subprocess.CalledProcessError as exc:
            raise KubegateError(f"vagrant up failed ({exc.returncode}); see {self.logs / 'vagrant-up.log'}") from None

    def destroy(self, names: list[str] | None = None) -> None:
        v = self._vagrant("vagrant-destroy.log")
        if names is None:
            v.destroy()
        for name in names or []:
            v.destroy(vm_name=name)

    def provision(self, name: str) -> None:
        log = self.logs / f"provision-{name}.log"
        try:
            self._vagrant(log.name).provision(vm_name=name)
        except subprocess.CalledProcessError:
            tail = log.read_text(errors="replace").strip().splitlines()[-2:] if log.is_file() else []
            raise KubegateError(f"provisioning {name} failed: {' | '.join(tail)}; full log: {log}") from None

    def ssh_config(self) -> str:
        return str(self._vagrant("vagrant-ssh-config.log").ssh_config())


class VagrantProvider(ClusterProvider):
    name = "vagrant"
    has_node_shell = True
    pull_policy = "Never"  # images are imported into every minion's containerd; nothing to pull from

    def __init__(self, root: Path, spec: ClusterSpec | None = None) -> None:
        self.root, self.spec = root, spec or ClusterSpec()
        self.machines = LocalMachines(root, self.spec, VagrantMachines(root, self.spec), self.kubectl)
        self.state, self.logs = self.machines.state, self.machines.backend.logs

    @property
    def kubeconfig(self) -> Path:
        return self.machines.kubeconfig

    @property
    def public_ip(self) -> str:
        return os.environ.get("KUBEGATE_PUBLIC_IP", self.spec.minions[0].ip)

    def _images(self) -> dict[str, str]:
        path = self.state / "images.json"
        if not path.is_file():
            raise KubegateError(f"no {path}: run `kubegate up` (or the cluster fixture) first")
        return {k: str(v) for k, v in json.loads(path.read_text()).items()}

    def serving_ca(self) -> tuple[Path, Path]:
        """The cluster CA: what the local rig's clients already trust."""
        return self.state / "pki" / "ca.crt", self.state / "pki" / "ca.key"

    def collection_nodes(self) -> list[str]:
        """The minions this provider brings up and waits for; collection may precede bring-up,
        so they come from the spec, and the suites check the live cluster matches."""
        return [m.name for m in self.spec.minions]

    def node_shell(self, node: str, command: str, timeout: float = 60) -> str:
        return self.machines.node_shell(node, command, timeout)

    def up(self) -> None:
        self.machines.run_plan("kubegate up", PLAN)

    def build(self, no_cache: bool = False) -> None:
        """Binaries and images without the machines; `no_cache`: every image from the locks anew."""
        self.machines.run_plan("kubegate build", BUILD_PLAN, no_cache=no_cache)

    def down(self, purge: bool = False) -> None:
        registry = LocalRegistry(self.root, self.spec)
        registry.down()  # before the network goes: it listens on the host's address there
        if purge:
            registry.purge()
        self.machines.down(purge)

    def status(self) -> ClusterStatus:
        machines, ready, problems = self.machines.status()
        summary = f"healthy: {len(machines)} machines running, {len(ready)} minions Ready"
        return ClusterStatus(not problems, "; ".join(problems) or summary, machines, ready, problems)
