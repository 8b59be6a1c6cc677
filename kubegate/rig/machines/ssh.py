"""Node shells: plain ssh with the backend's settings, each node on its fixed private address.

`vagrant ssh` pays Ruby's start-up (~2 s) per call; ssh with the same settings costs
milliseconds, which matters for per-minion checks. The backend's own config names the
container's docker-bridge address, which changes whenever a node container is recreated or
restarted; 10.245.1.x does not. The file is regenerated when the machines' ids change (a
private key is per machine).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.rig.machines.backend import MachineBackend


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def config_file(path: Path, backend: MachineBackend, ips: dict[str, str]) -> Path:
    """`path`, (re)written for the machines as they are now."""
    stamp = f"# machines {short_hash(''.join(sorted(backend.container_ids().values())))}\n"
    if path.is_file() and path.read_text().startswith(stamp):
        return path
    out, host = [stamp], ""
    for line in (_from_keys(backend.inserted_keys(), ips) or backend.ssh_config()).splitlines():
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


def _from_keys(keys: dict[str, Path], ips: dict[str, str]) -> str:
    """What `vagrant ssh-config` prints for docker machines, without its Ruby start-up (3-4 s,
    most of a cached bring-up's "node units" step): the key the backend inserted at the first
    boot, user vagrant. "" when a machine has no such key: then the backend is asked."""
    if not ips or not all(keys.get(name) and keys[name].is_file() for name in ips):
        return ""
    return "".join(f"Host {name}\n  HostName {ip}\n  User vagrant\n  Port 22\n"
                   f"  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n"
                   f"  PasswordAuthentication no\n  IdentityFile {keys[name]}\n  IdentitiesOnly yes\n"
                   f"  LogLevel FATAL\n\n" for name, ip in ips.items())


def run(config: Path, node: str, command: str, timeout: float) -> str:
    proc = subprocess.run(["ssh", "-F", str(config), node, command], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise KubegateError(f"on {node}: `{command}` exited {proc.returncode}: "
                            f"{(proc.stderr.strip() or proc.stdout.strip())[-300:]}")
    return proc.stdout
