"""The local cluster's machines: Vagrant (docker provider here) driven through python-vagrant.

The provider owns machines only: create, start, provision, destroy, their status, node
shells. What a bring-up does, in which order, is the list of steps in `kubegate.rig.steps`;
`up` runs it under a lock, so CLI, pytest sessions and xdist workers share one bring-up.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import vagrant

from kubegate import mutex
from kubegate.errors import KubegateError
from kubegate.paths import cluster_dir, reports_dir
from kubegate.providers.base import ClusterProvider, ClusterStatus
from kubegate.report.progress import Progress
from kubegate.rig import host_sysctls
from kubegate.rig.bringup import Context, Plan, bring_up
from kubegate.rig.spec import ClusterSpec
from kubegate.rig.steps import BUILD_PLAN, PLAN
from kubegate.rig.steps.ready import ready_state


class VagrantProvider(ClusterProvider):
    name = "vagrant"
    has_node_shell = True
    pull_policy = "Never"  # images are imported into every minion's containerd; nothing to pull from

    def __init__(self, root: Path, spec: ClusterSpec | None = None) -> None:
        self.root = root
        self.spec = spec or ClusterSpec()
        self.state = cluster_dir(root)
        self.logs = self.state / "logs"
        self._ssh_lock = threading.Lock()  # node shells run from threads; the config is written once

    # -- what suites use -------------------------------------------------------------
    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    @property
    def public_ip(self) -> str:
        return os.environ.get("KUBEGATE_PUBLIC_IP", self.spec.minions[0].ip)

    def _images(self) -> dict[str, str]:
        path = self.state / "images.json"
        if not path.is_file():
            raise KubegateError(f"no {path}: run `kubegate up` (or the cluster fixture) first")
        data = json.loads(path.read_text())
        return {k: str(v) for k, v in data.items()}

    def serving_ca(self) -> tuple[Path, Path]:
        """The cluster CA: what the local rig's clients already trust."""
        return self.state / "pki" / "ca.crt", self.state / "pki" / "ca.key"

    def collection_nodes(self) -> list[str]:
        """The minions this provider brings up and waits for; collection may precede bring-up,
        so they come from the spec, and the suites check the live cluster matches."""
        return [m.name for m in self.spec.minions]

    def node_shell(self, node: str, command: str, timeout: float = 60) -> str:
        """Run a command on a node over Vagrant's own ssh settings (`vagrant ssh-config`).

        `vagrant ssh` pays Ruby's start-up (~2 s) per call; plain ssh with the same
        config costs milliseconds, which matters for per-minion checks.
        """
        with self._ssh_lock:
            cfg = self._ssh_config()
        proc = subprocess.run(["ssh", "-F", str(cfg), node, command], capture_output=True, text=True,
                              timeout=timeout, check=False)
        if proc.returncode != 0:
            raise KubegateError(f"on {node}: `{command}` exited {proc.returncode}: "
                                f"{(proc.stderr.strip() or proc.stdout.strip())[-300:]}")
        return proc.stdout

    def _ssh_config(self) -> Path:
        """Vagrant's ssh settings with each node reached on its fixed private address.

        Vagrant's own config names the container's docker-bridge address, which changes
        whenever a node container is recreated or restarted; 10.245.1.x does not. The file
        is regenerated when the machines' ids change (a private key is per machine).
        """
        path = self.state / "ssh_config"
        ids = "".join(sorted(p.read_text() for p in (self.root / ".vagrant" / "machines").glob("*/docker/id")))
        stamp = f"# machines {_short_hash(ids)}\n"
        if path.is_file() and path.read_text().startswith(stamp):
            return path
        ips = {n.name: n.ip for n in self.spec.nodes}
        out, host = [stamp], ""
        for line in (self._inserted_keys_config(ips) or self._vagrant().ssh_config()).splitlines():
            key = line.strip().split(" ", 1)
            if key[0] == "Host" and len(key) == 2:
                host = key[1].strip()
            elif key[0] == "HostName" and host in ips:
                line = f"  HostName {ips[host]}"
            elif key[0] == "Port" and host in ips:
                line = "  Port 22"
            out.append(line + "\n")
        out.append("\nHost *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n")
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text("".join(out))
        tmp.replace(path)
        return path

    def _inserted_keys_config(self, ips: dict[str, str]) -> str:
        """What `vagrant ssh-config` prints for docker machines, without its Ruby start-up
        (3-4 s, most of a cached bring-up's "node units" step): the key Vagrant inserted at the
        first boot, user vagrant. "" when a machine has no such key (not created yet, or
        another provider): then Vagrant is asked."""
        keys = {name: self.root / ".vagrant" / "machines" / name / "docker" / "private_key" for name in ips}
        if not all(key.is_file() for key in keys.values()):
            return ""
        return "".join(f"Host {name}\n  HostName {ip}\n  User vagrant\n  Port 22\n"
                       f"  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n"
                       f"  PasswordAuthentication no\n  IdentityFile {keys[name]}\n  IdentitiesOnly yes\n"
                       f"  LogLevel FATAL\n\n" for name, ip in ips.items())

    # -- lifecycle -------------------------------------------------------------------
    def _vagrant(self, log: str = "vagrant.log") -> vagrant.Vagrant:
        self.logs.mkdir(parents=True, exist_ok=True)
        cm = vagrant.make_file_cm(str(self.logs / log))
        env = {**os.environ, "VAGRANT_DEFAULT_PROVIDER": os.environ.get("VAGRANT_DEFAULT_PROVIDER", "docker")}
        return vagrant.Vagrant(root=str(self.root), out_cm=cm, err_cm=cm, env=env)

    def up(self) -> None:
        """One bring-up at a time per checkout: CLI, pytest sessions and xdist workers wait for it."""
        self._run_plan("kubegate up", PLAN, no_cache=False)

    def build(self, no_cache: bool = False) -> None:
        """Build binaries and images without touching the machines; `no_cache` rebuilds every
        image without Docker's cache, from the locks (the cold canary)."""
        self._run_plan("kubegate build", BUILD_PLAN, no_cache=no_cache)

    def _run_plan(self, title: str, plan: Plan, no_cache: bool) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        prog = Progress(title)
        with mutex.hold(self.state / mutex.UP):
            try:
                bring_up(Context(self.root, self.spec, self, no_cache=no_cache), plan, prog)
            finally:
                prog.write_json(reports_dir(self.root) / "bringup", "bringup")

    @property
    def host_sysctls_path(self) -> Path:
        return self.state / "host-sysctls.json"

    def snapshot_host_sysctls(self) -> None:
        """The host's kernel.*/vm.* settings, taken only while no kubegate node runs anywhere on
        this host (a running node may already have written them)."""
        running = _running_node_owners()
        if running is not None and not running:
            host_sysctls.save(self.host_sysctls_path, host_sysctls.read())

    def host_sysctls_changed(self) -> list[str] | None:
        """What differs from the snapshot taken before the nodes started; None without one."""
        before = host_sysctls.load(self.host_sysctls_path)
        return None if before is None else host_sysctls.diff(before, host_sysctls.read())

    def _stamp_path(self, name: str) -> Path:
        return self.state / "provisioned" / name

    def _stamp(self, name: str) -> dict[str, str]:
        p = self._stamp_path(name)
        try:
            data = json.loads(p.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write_stamp(self, name: str, digest: str, image: str) -> None:
        p = self._stamp_path(name)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps({"digest": digest, "image": image}) + "\n")

    def _running_per_docker(self) -> dict[str, bool]:
        """machine -> whether its container runs, from Vagrant's id files and the Docker Engine
        alone: Vagrant's Ruby start-up costs seconds, the engine answers in milliseconds."""
        ids = {}
        for node in self.spec.nodes:
            idfile = self.root / ".vagrant" / "machines" / node.name / "docker" / "id"
            ids[node.name] = idfile.read_text().strip() if idfile.is_file() else ""
        if not all(ids.values()):
            return {name: False for name in ids}
        proc = subprocess.run(["docker", "inspect", "--format", "{{.Id}} {{.State.Running}}", *ids.values()],
                              capture_output=True, text=True, check=False)
        running = {line.split()[0] for line in proc.stdout.splitlines() if line.endswith(" true")}
        return {name: cid in running for name, cid in ids.items()}

    def machines_up(self, node_image: str, digests: dict[str, str]) -> tuple[str, bool]:
        """Create/start what is not running; returns a note and whether any machine was touched."""
        if all(self._running_per_docker().values()) and all(
                self._stamp(n.name).get("image") == node_image for n in self.spec.nodes):
            return f"all {len(self.spec.nodes)} machines running (checked with the Docker Engine)", False
        v = self._vagrant("vagrant-up.log")
        states = {s.name: s.state for s in v.status()}
        # A machine built from an older node image is recreated, not patched.
        stale = [n for n, st in states.items()
                 if st not in ("not_created",) and self._stamp(n).get("image") not in (None, node_image)]
        for name in stale:
            v.destroy(vm_name=name)
            states[name] = "not_created"
        todo = {n: st for n, st in states.items() if st != "running"}
        if not todo:
            return "all 4 machines running", False
        for name in (n for n, st in todo.items() if st == "not_created"):
            self._stamp_path(name).unlink(missing_ok=True)
        try:
            if len(todo) == len(states):
                v.up()  # Vagrant brings machines up in parallel on the docker provider
            else:
                with ThreadPoolExecutor(max_workers=len(todo)) as pool:
                    list(pool.map(lambda n: v.up(vm_name=n), todo))
        except subprocess.CalledProcessError as exc:
            raise KubegateError(f"vagrant up failed ({exc.returncode}); see {self.logs / 'vagrant-up.log'}") from None
        except KeyboardInterrupt:
            self.remove_strays()
            raise
        for name, st in todo.items():
            if st == "not_created":  # a fresh machine was provisioned by `vagrant up`
                self._write_stamp(name, digests[name], node_image)
        return ", ".join(f"{n}: {st} -> running" for n, st in sorted(todo.items())), True

    def provision_changed(self, digests: dict[str, str], node_image: str) -> str:
        changed = [n for n in digests if self._stamp(n).get("digest") != digests[n]]
        if not changed:
            return "nothing changed"

        def provision(name: str) -> None:
            v = self._vagrant(f"provision-{name}.log")
            try:
                v.provision(vm_name=name)
            except subprocess.CalledProcessError:
                log = self.logs / f"provision-{name}.log"
                tail = log.read_text(errors="replace").strip().splitlines()[-2:] if log.is_file() else []
                raise KubegateError(f"provisioning {name} failed: {' | '.join(tail)}; full log: {log}") from None
            self._write_stamp(name, digests[name], node_image)

        with ThreadPoolExecutor(max_workers=len(changed)) as pool:
            list(pool.map(provision, changed))
        return "provisioned " + ", ".join(changed)

    def remove_strays(self) -> None:
        """Remove node containers of this checkout that Vagrant no longer tracks.

        An interrupted `vagrant up` can leave a container Vagrant never recorded; nothing
        else would ever remove it.
        """
        tracked = set()
        for idfile in (self.root / ".vagrant" / "machines").glob("*/docker/id"):
            tracked.add(idfile.read_text().strip())
        prefix = self.root.name.replace(".", "")
        fmt = '{{.ID}} {{.Names}} {{.Label "kubegate.checkout"}}'
        proc = subprocess.run(["docker", "ps", "-a", "--no-trunc", "--format", fmt],
                              capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            parts = line.split()
            if len(parts) < 3 or parts[2] != str(self.root):
                continue
            cid, cname = parts[0], parts[1]
            if cid not in tracked and cname.startswith(prefix):
                subprocess.run(["docker", "rm", "-f", "-v", cid], capture_output=True, check=False)
        self._remove_idle_network()
        # Node containers and image stores whose checkout is gone (a deleted CI clone) can be
        # tracked by nothing.
        for line in proc.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].startswith("/") and not Path(parts[2]).exists():
                subprocess.run(["docker", "rm", "-f", "-v", parts[0]], capture_output=True, check=False)
        vols = subprocess.run(["docker", "volume", "ls", "--filter", "label=kubegate.cache=containerd", "--format",
                               '{{.Name}} {{.Label "kubegate.checkout"}}'], capture_output=True, text=True, check=False)
        self._remove_volumes([name for name, _, owner in (ln.partition(" ") for ln in vols.stdout.splitlines())
                              if owner.startswith("/") and not Path(owner).exists()])

    def _remove_idle_network(self) -> None:
        """Vagrant's private network for the cluster's subnet, when no container uses it.

        An interrupted `vagrant up` can create it and never attach anything; `vagrant up`
        makes it again when needed.
        """
        net = f"vagrant_network_{self.spec.network}"
        exists = subprocess.run(["docker", "network", "inspect", net], capture_output=True, check=False)
        # `network inspect` lists running containers only; stopped ones still need the network.
        users = subprocess.run(["docker", "ps", "-aq", "--filter", f"network={net}"],
                               capture_output=True, text=True, check=False)
        if exists.returncode == 0 and users.returncode == 0 and not users.stdout.strip():
            subprocess.run(["docker", "network", "rm", net], capture_output=True, check=False)

    def refuse_other_checkouts(self) -> None:
        """Two checkouts' clusters cannot share 10.245.1.x: say which one holds the addresses
        and what to run, before anything is created (docker would fail half-way through)."""
        others = {owner: names for owner, names in (_running_node_owners() or {}).items() if owner != str(self.root)}
        if others:
            owner, names = next(iter(others.items()))
            raise KubegateError(f"the addresses {self.spec.master_ip}-{self.spec.minion_ips[-1]} are held by the "
                                f"cluster of checkout {owner} ({len(names)} running node containers); stop it "
                                f"first: (cd {owner} && kubegate down)")

    def containerd_volumes(self) -> dict[str, str]:
        """minion -> the docker volume holding its containerd store, named after this checkout."""
        tag = _short_hash(str(self.root))
        return {m.name: f"kubegate-{tag}-{m.name}-containerd" for m in self.spec.minions}

    def ensure_containerd_volumes(self) -> None:
        for name in self.containerd_volumes().values():
            subprocess.run(["docker", "volume", "create", "--label", f"kubegate.checkout={self.root}",
                            "--label", "kubegate.cache=containerd", name], capture_output=True, check=False)

    def _remove_volumes(self, names: list[str]) -> None:
        if names:
            subprocess.run(["docker", "volume", "rm", "-f", *names], capture_output=True, check=False)

    def down(self, purge: bool = False) -> None:
        """Destroy the machines. Each minion's image store stays (a docker volume, like the
        build cache) unless `purge`; volumes of checkouts that no longer exist always go."""
        from kubegate.registry.local import LocalRegistry
        registry = LocalRegistry(self.root, self.spec)
        registry.down()  # before the network goes: it listens on the host's address there
        if purge:
            registry.purge()
        v = self._vagrant("vagrant-destroy.log")
        v.destroy()
        self.remove_strays()
        if purge:
            self._remove_volumes(list(self.containerd_volumes().values()))
        for stamp in (self.state / "provisioned").glob("*"):
            stamp.unlink()

    def status(self) -> ClusterStatus:
        if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
            return ClusterStatus(False, "Docker Engine is not running (kubegate up starts it)")
        machines = {s.name: s.state for s in self._vagrant("vagrant-status.log").status()}
        problems = [f"{n} is {st}" for n, st in machines.items() if st != "running"]
        ready: list[str] = []
        if not problems and self.kubeconfig.is_file():
            state = ready_state(self.kubectl(), {m.name for m in self.spec.minions})
            ready = state.ready
            if not state.complete:
                problems.append(state.describe())
        elif not self.kubeconfig.is_file():
            problems.append(f"no kubeconfig at {self.kubeconfig}")
        healthy = not problems
        summary = "healthy: 4 machines running, 3 minions Ready" if healthy else "; ".join(problems)
        return ClusterStatus(healthy, summary, machines=machines, ready_nodes=ready, problems=problems)


def _running_node_owners() -> dict[str, list[str]] | None:
    """checkout -> names of its running node containers, on this host; None if docker did not answer."""
    fmt = '{{.Label "kubegate.checkout"}} {{.Names}}'
    proc = subprocess.run(["docker", "ps", "--filter", "label=kubegate.checkout", "--format", fmt],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    owners: dict[str, list[str]] = {}
    for owner, _, name in (line.partition(" ") for line in proc.stdout.splitlines()):
        owners.setdefault(owner, []).append(name)
    return owners


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]
