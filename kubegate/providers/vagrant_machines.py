"""Vagrant as the rig's MachineBackend (docker provider here; libvirt and VirtualBox in the
Vagrantfile), driven through python-vagrant: it creates, starts, provisions and destroys
machines and nothing else; each call's output goes to its own log in `.cluster/logs/`."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import vagrant

from kubegate.errors import KubegateError
from kubegate.paths import assets, cluster_dir, is_checkout
from kubegate.rig.spec import ClusterSpec


class VagrantMachines:
    """The rig's MachineBackend on Vagrant; each call's output in its own log."""

    def __init__(self, root: Path, spec: ClusterSpec) -> None:
        self.root, self.names = root, [n.name for n in spec.nodes]
        self.logs = cluster_dir(root) / "logs"
        self.network = f"vagrant_network_{spec.network}"
        ensure_vagrantfile(root)

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
            log = self.logs / "vagrant-up.log"
            raise KubegateError(f"vagrant up failed ({exc.returncode}): {log_tail(log, 3)}; full log: {log}") from None

    def destroy(self, names: list[str] | None = None) -> None:
        log = self.logs / "vagrant-destroy.log"
        v = self._vagrant(log.name)
        try:
            if names is None:
                v.destroy()
            for name in names or []:
                v.destroy(vm_name=name)
        except subprocess.CalledProcessError:
            # e.g. another vagrant command holds the machines' lock (a second `kubegate down`)
            raise KubegateError(f"vagrant destroy failed: {log_tail(log, 3)}; full log: {log}; "
                                "when no other kubegate or vagrant command runs, try `kubegate down` again") from None

    def provision(self, name: str) -> None:
        log = self.logs / f"provision-{name}.log"
        try:
            self._vagrant(log.name).provision(vm_name=name)
        except subprocess.CalledProcessError:
            raise KubegateError(f"provisioning {name} failed: {log_tail(log, 2)}; full log: {log}") from None

    def ssh_config(self) -> str:
        return str(self._vagrant("vagrant-ssh-config.log").ssh_config())


def log_tail(log: Path, lines: int) -> str:
    """A failed call's last words on one line: Vagrant ends its output with the error (a
    provisioner's failing command, a lock held), which CI logs should show without the file."""
    text = log.read_text(errors="replace") if log.is_file() else ""
    return " | ".join(t.strip() for t in text.strip().splitlines()[-lines:] if t.strip()) or "(no output)"


HEADER = "# -*- mode: ruby -*-\n# kubegate's cluster state directory"
STUB = HEADER + """ (written by kubegate): the machines are defined in
# {vagrantfile}
$kubegate_state = __dir__
load {vagrantfile!r}
"""


def ensure_vagrantfile(state: Path) -> None:
    """The state directory is Vagrant's project (its .vagrant/, the /vagrant synced folder); a
    stub there loads the packaged Vagrantfile. A checkout keeps its own committed stub."""
    if is_checkout(state):
        return
    path = state / "Vagrantfile"
    text = STUB.format(vagrantfile=str(assets() / "cluster" / "Vagrantfile"))
    if path.is_file():
        old = path.read_text()
        if old == text:
            return
        if not old.startswith(HEADER):
            raise KubegateError(f"{path} is not kubegate's Vagrantfile: choose another state directory "
                                "(--state-dir or KUBEGATE_STATE_DIR)")
    path.write_text(text)
