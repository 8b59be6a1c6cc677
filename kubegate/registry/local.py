"""The local rig's private registry: CNCF Distribution on the host's cluster address.

It stands in for the registry a user's nodes pull from, with what makes one private: TLS
from the cluster CA (minions' containerd trusts it through hosts.toml) and a basic-auth
login (htpasswd, bcrypt). It listens only on the host's address on the cluster network,
and `kubegate down` stops it: a pid file in `.cluster/registry/` tracks the process, so an
interrupted run leaves nothing untracked. Blobs live in the cache, so an unchanged push is
a few HEAD requests.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from kubegate.errors import KubegateError
from kubegate.fs import write_atomic
from kubegate.paths import cache_dir, cluster_dir
from kubegate.rig.build import gobuild
from kubegate.rig.pki import REGISTRY, ensure_pki
from kubegate.rig.spec import ClusterSpec
from kubegate.wait import until

USER = "kubegate"


@dataclass(frozen=True)
class RegistryInfo:
    address: str  # host:port
    user: str
    password_file: Path
    ca_file: Path

    def describe(self) -> str:
        return (f"registry https://{self.address} (user {self.user}, password in {self.password_file}, "
                f"CA {self.ca_file})")


class LocalRegistry:
    def __init__(self, root: Path, spec: ClusterSpec) -> None:
        self.root = root
        self.spec = spec
        self.state = cluster_dir(root) / "registry"
        self.pid_file = self.state / "pid"
        self.log = self.state / "registry.log"

    @property
    def address(self) -> str:
        return self.spec.registry

    def info(self) -> RegistryInfo:
        return RegistryInfo(self.address, USER, self.state / "password", cluster_dir(self.root) / "pki" / "ca.crt")

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"registry" in cmdline else None

    def up(self) -> RegistryInfo:
        """Start it (or find it running); returns where it is and how to log in."""
        if self.pid() is not None:
            if self._answers():
                return self.info()
            self.down()  # running but not answering: never leave it behind untracked
        self._host_address_present()
        binary = gobuild.build(gobuild.registry_target()) / "registry"
        pki = ensure_pki(cluster_dir(self.root) / "pki", self.spec)
        pair = pki.cert(REGISTRY)
        self.state.mkdir(parents=True, exist_ok=True, mode=0o700)
        password = self._password()
        htpasswd = self.state / "htpasswd"
        htpasswd.write_text(f"{USER}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()}\n")
        data = cache_dir() / "registry"
        data.mkdir(parents=True, exist_ok=True)
        config = self.state / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: info\n  formatter: text\n"
            f"storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.address}\n"
            f"  tls:\n    certificate: {pair.cert_path}\n    key: {pair.key_path}\n"
            f"auth:\n  htpasswd:\n    realm: kubegate\n    path: {htpasswd}\n")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OTEL_SDK_DISABLED": "true",
               "OTEL_TRACES_EXPORTER": "none"}
        with self.log.open("a") as fh:
            proc = subprocess.Popen([str(binary), "serve", str(config)], stdout=fh, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.pid_file.write_text(f"{proc.pid}\n")

        def answers() -> bool | None:
            if proc.poll() is not None:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-1:]
                self.pid_file.unlink(missing_ok=True)
                raise KubegateError(f"the local registry exited at start: {tail[0] if tail else '?'}; log: {self.log}")
            return True if self._answers() else None

        if until(answers, timeout=20, every=0.2):
            return self.info()
        self.down()
        raise KubegateError(f"the local registry did not answer on https://{self.address}/v2/ within 20 s; "
                            f"log: {self.log}")

    def down(self) -> str:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return "local registry not running"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        until(lambda: True if not Path(f"/proc/{pid}").exists() else None, timeout=15, every=0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return f"local registry on {self.address} stopped"

    def purge(self) -> None:
        """Drop the pushed blobs (kept across `down` so unchanged pushes are fast)."""
        import shutil
        shutil.rmtree(cache_dir() / "registry", ignore_errors=True)

    def _password(self) -> str:
        path = self.state / "password"
        if path.is_file():
            return path.read_text().strip()
        password = secrets.token_urlsafe(24)
        write_atomic(path, f"{password}\n".encode(), 0o600)
        return password

    def _host_address_present(self) -> None:
        """The address exists only while the cluster network does (docker network or host-only adapter)."""
        with socket.socket() as s:
            try:
                s.bind((self.spec.registry_ip, 0))
            except OSError:
                raise KubegateError(f"this host has no address {self.spec.registry_ip} (the cluster network): "
                                    f"bring the cluster up first with: kubegate up") from None

    def _answers(self) -> bool:
        """/v2/ answers 401 to an anonymous request when the registry is up and TLS is ours."""
        ctx = ssl.create_default_context(cafile=str(self.info().ca_file))
        # No proxy: the registry is on this host's own cluster address.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
        try:
            opener.open(f"https://{self.address}/v2/", timeout=2)
        except urllib.error.HTTPError as exc:
            return exc.code == 401
        except (urllib.error.URLError, OSError):
            return False
        return False
