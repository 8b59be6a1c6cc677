"""Room on the Docker Engine's disk for new image stores, checked before any machine is made.

Each minion's containerd store is a docker volume that takes about twice the size of the image
tarballs it imports (the layers and their unpacked snapshots). When the disk fills half-way
through, `vagrant up` fails in the provisioner with containerd's own error a minute later, and
a half-provisioned cluster is left to destroy; a one-line refusal up front names what to free.
The image stores of other checkouts are kubegate's own and the usual thing to free.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kubegate.errors import KubegateError

GiB = 1 << 30
#: the node containers' own layers, logs and etcd's data, beside the image stores
MARGIN = 1 * GiB


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


def store_need(images: Path) -> int:
    """Bytes one new image store takes: twice the tarballs that provisioning imports."""
    return 2 * sum(f.stat().st_size for f in images.glob("*.tar"))


def _gb(n: int) -> str:
    return f"{n / GiB:.1f} GB"


def _volume_bytes(name: str) -> int:
    mount = _docker("volume", "inspect", "-f", "{{.Mountpoint}}", name).stdout.strip()
    du = subprocess.run(["du", "-sb", mount], capture_output=True, text=True, check=False) if mount else None
    return int(du.stdout.split()[0]) if du and du.returncode == 0 and du.stdout else 0


def others(root: Path) -> dict[str, list[str]]:
    """checkout -> its image-store volumes, for checkouts other than this one."""
    proc = _docker("volume", "ls", "--filter", "label=kubegate.cache=containerd", "--format",
                   '{{.Name}} {{.Label "kubegate.checkout"}}')
    found: dict[str, list[str]] = {}
    for name, _, owner in (line.partition(" ") for line in proc.stdout.splitlines()):
        if owner and owner != str(root):
            found.setdefault(owner, []).append(name)
    return found


def require_room(root: Path, volumes: list[str], images: Path) -> None:
    """Refuse, in one line, to create image stores the Docker Engine's disk cannot hold."""
    existing = set(_docker("volume", "ls", "-q").stdout.split())
    new = [v for v in volumes if v not in existing]
    if not new:
        return  # a cached bring-up: its stores exist and hold the images already
    data_root = _docker("info", "-f", "{{.DockerRootDir}}").stdout.strip() or "/var/lib/docker"
    free = shutil.disk_usage(data_root).free
    need = len(new) * store_need(images) + MARGIN
    if free >= need:
        return
    held = sorted(((sum(_volume_bytes(v) for v in vols), owner) for owner, vols in others(root).items()),
                  reverse=True)
    hint = "; ".join(f"(cd {owner} && kubegate down --purge) frees {_gb(size)}" for size, owner in held)
    stores = f"{len(new)} new image stores need" if len(new) > 1 else "new image store needs"
    raise KubegateError(f"the Docker Engine's disk ({data_root}) has {_gb(free)} free and this cluster's "
                        f"{stores} about {_gb(need)}: free space first"
                        + (f": {hint}" if hint else " (docker system df shows what holds it)"))
