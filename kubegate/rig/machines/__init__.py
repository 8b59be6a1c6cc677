"""The local cluster's machines, whatever backend creates them: what the bring-up's steps use
(kubegate.rig.bringup.Machines), and up, build, down and status for the provider.

The backend (Vagrant: kubegate.providers.vagrant) only creates, starts, provisions and destroys
machines; which machines to recreate (an older node image), which to provision (their inputs
changed), the strays of interrupted runs, the minions' image-store volumes, node shells on fixed
addresses and the host's kernel settings are decided here, the same for every backend.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kubegate import mutex
from kubegate.kube.kubectl import Kubectl
from kubegate.paths import cluster_dir, dist_dir, reports_dir
from kubegate.report.progress import Progress
from kubegate.rig import host_sysctls
from kubegate.rig.bringup import Context, Plan, bring_up
from kubegate.rig.machines import diskspace, ssh, strays
from kubegate.rig.machines.backend import MachineBackend
from kubegate.rig.machines.stamps import Stamps
from kubegate.rig.spec import ClusterSpec
from kubegate.rig.steps.ready import ready_state


class LocalMachines:
    def __init__(self, root: Path, spec: ClusterSpec, backend: MachineBackend,
                 kubectl: Callable[[str | None], Kubectl]) -> None:
        self.root, self.spec, self.backend, self._kubectl = root, spec, backend, kubectl
        self.state = cluster_dir(root)
        self.stamps = Stamps(self.state / "provisioned")
        self.host_sysctls_path = self.state / "host-sysctls.json"
        self._ssh_lock = threading.Lock()  # node shells run from threads; the config is written once

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    def kubectl(self, namespace: str | None = None) -> Kubectl:
        return self._kubectl(namespace)

    def node_shell(self, node: str, command: str, timeout: float = 60) -> str:
        with self._ssh_lock:
            config = ssh.config_file(self.state / "ssh_config", self.backend, {n.name: n.ip for n in self.spec.nodes})
        return ssh.run(config, node, command, timeout)

    def run_plan(self, title: str, plan: Plan, no_cache: bool = False) -> None:
        """One bring-up (or build) at a time per checkout: CLI, pytest sessions and xdist workers wait."""
        self.state.mkdir(parents=True, exist_ok=True)
        prog = Progress(title)
        with mutex.hold(self.state / mutex.UP):
            try:
                bring_up(Context(self.root, self.spec, self, no_cache=no_cache), plan, prog)
            finally:
                prog.write_json(reports_dir(self.root) / "bringup", "bringup")

    # -- the host's kernel settings -------------------------------------------------------
    def snapshot_host_sysctls(self) -> None:
        """The host's kernel.*/vm.* settings, taken only while no kubegate node runs anywhere on
        this host (a running node may already have written them)."""
        running = strays.running_node_owners()
        if running is not None and not running:
            host_sysctls.save(self.host_sysctls_path, host_sysctls.read())

    def host_sysctls_changed(self) -> list[str] | None:
        """What differs from the snapshot taken before the nodes started; None without one."""
        before = host_sysctls.load(self.host_sysctls_path)
        return None if before is None else host_sysctls.diff(before, host_sysctls.read())

    # -- machines ---------------------------------------------------------------------------
    def _running(self) -> dict[str, bool]:
        """machine -> whether its container runs, from the Docker Engine alone: the backend's
        start-up (Vagrant's Ruby) costs seconds, the engine answers in milliseconds."""
        ids = self.backend.container_ids()
        if not ids or not all(ids.values()):
            return {n.name: False for n in self.spec.nodes}
        proc = subprocess.run(["docker", "inspect", "--format", "{{.Id}} {{.State.Running}}", *ids.values()],
                              capture_output=True, text=True, check=False)
        running = {line.split()[0] for line in proc.stdout.splitlines() if line.endswith(" true")}
        return {name: cid in running for name, cid in ids.items()}

    def machines_up(self, node_image: str, digests: dict[str, str]) -> tuple[str, bool]:
        """Create/start what is not running; returns a note and whether any machine was touched."""
        count = len(self.spec.nodes)
        if all(self._running().values()) and all(self.stamps.get(n.name).get("image") == node_image
                                                 for n in self.spec.nodes):
            return f"all {count} machines running (checked with the Docker Engine)", False
        states = self.backend.states()
        # A machine built from an older node image is recreated, not patched.
        stale = [n for n, st in states.items()
                 if st != "not_created" and self.stamps.get(n).get("image") not in (None, node_image)]
        if stale:
            self.backend.destroy(stale)
            states.update(dict.fromkeys(stale, "not_created"))
        todo = {n: st for n, st in states.items() if st != "running"}
        if not todo:
            return f"all {count} machines running", False
        for name in (n for n, st in todo.items() if st == "not_created"):
            self.stamps.drop(name)
        try:
            self.backend.up(None if len(todo) == len(states) else sorted(todo))
        except KeyboardInterrupt:
            self.remove_strays()
            raise
        for name, st in todo.items():
            if st == "not_created":  # a fresh machine was provisioned as it was created
                self.stamps.put(name, digests[name], node_image)
        return ", ".join(f"{n}: {st} -> running" for n, st in sorted(todo.items())), True

    def provision_changed(self, digests: dict[str, str], node_image: str) -> str:
        changed = [n for n in digests if self.stamps.get(n).get("digest") != digests[n]]
        if not changed:
            return "nothing changed"

        def provision(name: str) -> None:
            self.backend.provision(name)
            self.stamps.put(name, digests[name], node_image)

        with ThreadPoolExecutor(max_workers=len(changed)) as pool:
            list(pool.map(provision, changed))
        return "provisioned " + ", ".join(changed)

    def remove_strays(self) -> None:
        strays.remove(self.root, set(self.backend.container_ids().values()) - {""}, self.backend.network)

    def refuse_other_checkouts(self) -> None:
        strays.refuse_other_checkouts(self.root, f"{self.spec.master_ip}-{self.spec.minion_ips[-1]}")

    def containerd_volumes(self) -> dict[str, str]:
        """minion -> the docker volume holding its containerd store, named after this checkout."""
        tag = ssh.short_hash(str(self.root))
        return {m.name: f"kubegate-{tag}-{m.name}-containerd" for m in self.spec.minions}

    def require_disk_room(self) -> None:
        diskspace.require_room(self.root, list(self.containerd_volumes().values()), dist_dir() / "images")

    def ensure_containerd_volumes(self) -> None:
        strays.ensure_volumes(self.root, list(self.containerd_volumes().values()))

    def down(self, purge: bool = False) -> None:
        """Destroy the machines. Each minion's image store stays (a docker volume, like the build
        cache) unless `purge`; volumes of checkouts that no longer exist always go."""
        self.backend.destroy()
        self.remove_strays()
        if purge:
            strays.remove_volumes(list(self.containerd_volumes().values()))
        self.stamps.drop()

    def status(self) -> tuple[dict[str, str], list[str], list[str]]:
        """(machine -> state, Ready minions, what is wrong)."""
        if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
            return {}, [], ["Docker Engine is not running (kubegate up starts it)"]
        machines = self.backend.states()
        problems = [f"{n} is {st}" for n, st in machines.items() if st != "running"]
        if not self.kubeconfig.is_file():
            return machines, [], [*problems, f"no kubeconfig at {self.kubeconfig}"]
        if problems:
            return machines, [], problems
        ready = ready_state(self.kubectl(), {m.name for m in self.spec.minions})
        return machines, ready.ready, [] if ready.complete else [ready.describe()]
