"""The local cluster: Vagrant machines (docker provider here) driven through python-vagrant.

`up` is safe to call at every run: it builds only what the caches lack, creates missing
machines, starts stopped ones, re-provisions a machine only when what it was provisioned
with changed (a digest stamp per machine), removes node containers Vagrant no longer
tracks (an interrupted `vagrant up`), and waits for the three minions to be Ready with a
time-out that names what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import vagrant
from filelock import FileLock

from kubegate.errors import KubegateError
from kubegate.paths import cluster_dir, dist_dir, reports_dir
from kubegate.providers.base import ClusterProvider, ClusterStatus
from kubegate.report.progress import Progress
from kubegate.rig import host_sysctls, prereqs
from kubegate.rig.build import gobuild, images
from kubegate.rig.pki import ensure_pki
from kubegate.rig.render.cluster import render_all, write_node
from kubegate.rig.render.kubeconfig import render_kubeconfig, write_kubeconfig
from kubegate.rig.spec import ClusterSpec

READY_TIMEOUT = float(os.environ.get("KUBEGATE_READY_TIMEOUT", "300"))
DIST_BINARIES = ("etcd", *gobuild.KUBE_BINARIES)


class VagrantProvider(ClusterProvider):
    name = "vagrant"
    has_node_shell = True

    def __init__(self, root: Path, spec: ClusterSpec | None = None) -> None:
        self.root = root
        self.spec = spec or ClusterSpec()
        self.state = cluster_dir(root)
        self.logs = self.state / "logs"

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

    def collection_nodes(self) -> list[str]:
        """The minions this provider brings up and waits for; collection may precede bring-up,
        so they come from the spec, and the suites check the live cluster matches."""
        return [m.name for m in self.spec.minions]

    def node_shell(self, node: str, command: str, timeout: float = 60) -> str:
        """Run a command on a node over Vagrant's own ssh settings (`vagrant ssh-config`).

        `vagrant ssh` pays Ruby's start-up (~2 s) per call; plain ssh with the same
        config costs milliseconds, which matters for per-minion checks.
        """
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
        for line in self._vagrant().ssh_config().splitlines():
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

    # -- lifecycle -------------------------------------------------------------------
    def _vagrant(self, log: str = "vagrant.log") -> vagrant.Vagrant:
        self.logs.mkdir(parents=True, exist_ok=True)
        cm = vagrant.make_file_cm(str(self.logs / log))
        env = {**os.environ, "VAGRANT_DEFAULT_PROVIDER": os.environ.get("VAGRANT_DEFAULT_PROVIDER", "docker")}
        return vagrant.Vagrant(root=str(self.root), out_cm=cm, err_cm=cm, env=env)

    def up(self) -> None:
        """One bring-up at a time per checkout: CLI, pytest sessions and xdist workers wait for it."""
        self.state.mkdir(parents=True, exist_ok=True)
        prog = Progress("kubegate up")
        with FileLock(str(self.state / "up.lock")):
            try:
                self._up(prog)
            finally:
                prog.write_json(reports_dir(self.root) / "bringup", "bringup")

    def _up(self, prog: Progress) -> None:
        with prog.phase("prerequisites"):
            prereqs.require("vagrant", "go", "kubectl", "debootstrap", "mvn", "ssh")
            prereqs.ensure_docker_engine(self.root)
        # The Go build and the image builds share nothing (the db image compiles FerretDB in its
        # own build), and image builds mostly download: run them side by side.
        with ThreadPoolExecutor(max_workers=2) as pool:
            build = pool.submit(self._build_binaries, prog)
            built = pool.submit(self._build_images, prog)
            bins, refs = build.result(), built.result()
        with prog.phase("dist") as ph:
            images.export_for_minions(refs)
            self._assemble_dist_bin(bins)
            ph.note = ", ".join(sorted(refs.values()))
        with prog.phase("render") as ph:
            digests = self._render(refs)
            ph.note = f"{len(digests)} nodes"
        with prog.phase("vagrant up") as ph:
            started = time.time()
            self._snapshot_host_sysctls()
            self._remove_strays()
            ph.note, touched = self._machines_up(refs["node"], digests)
        with prog.phase("provisioning") as ph:
            ph.note = self._provision_changed(digests, refs["node"])
        with prog.phase("nodes Ready") as ph:
            # After machines were (re)started, a Ready status written by their previous kubelet
            # proves nothing: wait for a heartbeat from after the start.
            ph.note = self.wait_ready(READY_TIMEOUT, since=started if touched else None)
            self._publish_pod_cidrs()

    def _build_binaries(self, prog: Progress) -> dict[str, Path]:
        with prog.phase("build") as ph:
            bins = {t.name: gobuild.build(t) for t in (gobuild.kubernetes_target(self.spec.kube_version),
                                                       gobuild.etcd_target(self.spec.etcd_version))}
            ph.note = ", ".join(f"{k} {v.name}" for k, v in bins.items())
        return bins

    def _build_images(self, prog: Progress) -> dict[str, str]:
        with prog.phase("images") as ph:
            refs = images.ensure_images(self.root, self.logs)
            ph.note = f"{len(refs)} images"
        return refs

    @property
    def host_sysctls_path(self) -> Path:
        return self.state / "host-sysctls.json"

    def _snapshot_host_sysctls(self) -> None:
        """The host's kernel.*/vm.* settings, taken only while no kubegate node runs anywhere on
        this host (a running node may already have written them)."""
        running = subprocess.run(["docker", "ps", "-q", "--filter", "label=kubegate.checkout"],
                                 capture_output=True, text=True, check=False)
        if running.returncode == 0 and not running.stdout.strip():
            host_sysctls.save(self.host_sysctls_path, host_sysctls.read())

    def host_sysctls_changed(self) -> list[str] | None:
        """What differs from the snapshot taken before the nodes started; None without one."""
        before = host_sysctls.load(self.host_sysctls_path)
        return None if before is None else host_sysctls.diff(before, host_sysctls.read())

    def _assemble_dist_bin(self, bins: dict[str, Path]) -> None:
        out = dist_dir() / "bin"
        out.mkdir(parents=True, exist_ok=True)
        for binary in DIST_BINARIES:
            src = (bins["etcd"] if binary == "etcd" else bins["kubernetes"]) / binary
            dst = out / binary
            if dst.is_file() and dst.stat().st_ino == src.stat().st_ino:
                continue
            tmp = dst.with_suffix(".tmp")
            tmp.unlink(missing_ok=True)
            os.link(src, tmp)
            tmp.replace(dst)

    def _render(self, refs: dict[str, str]) -> dict[str, str]:
        self.state.mkdir(parents=True, exist_ok=True)
        pki = ensure_pki(self.state / "pki", self.spec)
        sandbox = f"docker.io/{refs['pause']}"
        nodes_dir = self.state / "nodes"
        nodes_dir.mkdir(exist_ok=True)
        digests: dict[str, str] = {}
        for nf in render_all(self.spec, pki, sandbox):
            write_node(nodes_dir, nf, self.spec.kube_version)
            digests[nf.node.name] = nf.digest()
        admin = render_kubeconfig(self.spec.name, self.spec.apiserver_url, pki.ca.cert_pem, pki.admin.cert_pem,
                                  pki.admin.key_pem, "kubegate-admin")
        write_kubeconfig(self.kubeconfig, admin)
        settings = {"node_image": refs["node"], "dist_dir": str(dist_dir()), "master_ip": self.spec.master_ip,
                    "minion_ips": list(self.spec.minion_ips)}
        (self.state / "images.json").write_text(json.dumps(refs, indent=2, sort_keys=True) + "\n")
        path = self.state / "vagrant.json"
        text = json.dumps(settings, indent=2) + "\n"
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        index = dist_dir() / "images" / "index.json"
        extra = index.read_text() if index.is_file() else ""
        return {name: f"{d}:{_short_hash(extra)}" for name, d in digests.items()}

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

    def _machines_up(self, node_image: str, digests: dict[str, str]) -> tuple[str, bool]:
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
            self._remove_strays()
            raise
        for name, st in todo.items():
            if st == "not_created":  # a fresh machine was provisioned by `vagrant up`
                self._write_stamp(name, digests[name], node_image)
        return ", ".join(f"{n}: {st} -> running" for n, st in sorted(todo.items())), True

    def _provision_changed(self, digests: dict[str, str], node_image: str) -> str:
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

    def _remove_strays(self) -> None:
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
        # Node containers whose checkout is gone (a deleted CI clone) can be tracked by nothing.
        for line in proc.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].startswith("/") and not Path(parts[2]).exists():
                subprocess.run(["docker", "rm", "-f", "-v", parts[0]], capture_output=True, check=False)

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

    def wait_ready(self, timeout: float, since: float | None = None) -> str:
        want = {m.name for m in self.spec.minions}
        deadline = time.monotonic() + timeout
        k = self.kubectl()
        last = "the API server never answered"
        while True:
            res = k.run_e("get", "nodes", "-o", "json", timeout=20)
            if res.returncode == 0:
                items = json.loads(res.stdout).get("items", [])
                ready = {i["metadata"]["name"] for i in items
                         if any(c["type"] == "Ready" and c["status"] == "True" and _after(c, since)
                                for c in i["status"]["conditions"])}
                if want <= ready:
                    return f"{len(ready)} Ready: {', '.join(sorted(ready))}"
                seen = {i["metadata"]["name"] for i in items}
                last = (f"Ready: {sorted(ready) or 'none'}; not registered: {sorted(want - seen) or 'none'}; "
                        f"registered but not Ready: {sorted((want & seen) - ready) or 'none'}")
            else:
                err = res.stderr.strip().splitlines()
                last = f"API server at {self.spec.apiserver_url} not answering: {err[-1] if err else '?'}"
            if time.monotonic() > deadline:
                raise KubegateError(f"minions not Ready after {int(timeout)}s: {last}; "
                                    f"inspect with: vagrant ssh minion-1 -c 'sudo journalctl -u kubelet -n 50'")
            time.sleep(2)

    def _publish_pod_cidrs(self) -> None:
        """Record each minion's pod range in its Node object, as a controller-manager that
        allocates node CIDRs would: the ranges are fixed by the spec (CNI host-local, static
        routes), and clients of the API (suites, kube-proxy, upstream's e2e) read them there.
        A Node's podCIDR can be set once, so only unset ones are patched."""
        k = self.kubectl()
        nodes = {n["metadata"]["name"]: n for n in k.get_json("nodes")["items"]}
        for m in self.spec.minions:
            node = nodes.get(m.name)
            if node is not None and m.pod_cidr and not node["spec"].get("podCIDR"):
                k.run("patch", "node", m.name, "--type=merge", "-p",
                      json.dumps({"spec": {"podCIDR": m.pod_cidr, "podCIDRs": [m.pod_cidr]}}))

    def down(self) -> None:
        v = self._vagrant("vagrant-destroy.log")
        v.destroy()
        self._remove_strays()
        for stamp in (self.state / "provisioned").glob("*"):
            stamp.unlink()

    def status(self) -> ClusterStatus:
        if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
            return ClusterStatus(False, "Docker Engine is not running (kubegate up starts it)")
        machines = {s.name: s.state for s in self._vagrant("vagrant-status.log").status()}
        problems = [f"{n} is {st}" for n, st in machines.items() if st != "running"]
        ready: list[str] = []
        if not problems and self.kubeconfig.is_file():
            try:
                note = self.wait_ready(0)
                ready = note.split(": ", 1)[1].split(", ")
            except KubegateError as exc:
                problems.append(str(exc))
        elif not self.kubeconfig.is_file():
            problems.append(f"no kubeconfig at {self.kubeconfig}")
        healthy = not problems
        summary = "healthy: 4 machines running, 3 minions Ready" if healthy else "; ".join(problems)
        return ClusterStatus(healthy, summary, machines=machines, ready_nodes=ready, problems=problems)


def _after(condition: dict[str, str], since: float | None) -> bool:
    if since is None:
        return True
    beat = condition.get("lastHeartbeatTime", "")
    try:
        return datetime.strptime(beat, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() >= since - 1
    except ValueError:
        return False


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]
