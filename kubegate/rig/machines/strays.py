"""What interrupted runs and deleted checkouts leave in the Docker Engine, found and removed.

An interrupted `vagrant up` can leave a container Vagrant never recorded, or a private network
nothing attaches to; a deleted CI clone leaves node containers and image-store volumes whose
checkout is gone. Nothing else would ever remove them. Containers and volumes carry the label
`kubegate.checkout` (the checkout's path), which is how they are told apart.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from kubegate.errors import KubegateError


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


def running_node_owners() -> dict[str, list[str]] | None:
    """checkout -> names of its running node containers, on this host; None if docker did not answer."""
    proc = _docker("ps", "--filter", "label=kubegate.checkout", "--format", '{{.Label "kubegate.checkout"}} {{.Names}}')
    if proc.returncode != 0:
        return None
    owners: dict[str, list[str]] = {}
    for owner, _, name in (line.partition(" ") for line in proc.stdout.splitlines()):
        owners.setdefault(owner, []).append(name)
    return owners


def refuse_other_checkouts(root: Path, addresses: str) -> None:
    """Two checkouts' clusters cannot share the addresses: say which one holds them and what to
    run, before anything is created (docker would fail half-way through)."""
    others = {owner: names for owner, names in (running_node_owners() or {}).items() if owner != str(root)}
    if others:
        owner, names = next(iter(others.items()))
        raise KubegateError(f"the addresses {addresses} are held by the cluster of checkout {owner} "
                            f"({len(names)} running node containers); stop it first: (cd {owner} && kubegate down)")


def remove(root: Path, tracked: set[str], network: str) -> None:
    """This checkout's node containers that the backend does not track, the cluster's network when
    idle, and containers and volumes of checkouts that no longer exist."""
    prefix = root.name.replace(".", "")
    listing = _docker("ps", "-a", "--no-trunc", "--format", '{{.ID}} {{.Names}} {{.Label "kubegate.checkout"}}')
    for parts in (line.split() for line in listing.stdout.splitlines()):
        if len(parts) == 3 and parts[2] == str(root) and parts[0] not in tracked and parts[1].startswith(prefix):
            _docker("rm", "-f", "-v", parts[0])
    _remove_idle_network(network)
    for parts in (line.split() for line in listing.stdout.splitlines()):
        if len(parts) == 3 and parts[2].startswith("/") and not Path(parts[2]).exists():
            _docker("rm", "-f", "-v", parts[0])
    vols = _docker("volume", "ls", "--filter", "label=kubegate.cache=containerd", "--format",
                   '{{.Name}} {{.Label "kubegate.checkout"}}')
    remove_volumes([name for name, _, owner in (ln.partition(" ") for ln in vols.stdout.splitlines())
                    if owner.startswith("/") and not Path(owner).exists()])


def _remove_idle_network(network: str) -> None:
    """The backend's private network for the cluster's subnet, when no container uses it (the
    backend makes it again when needed)."""
    exists = _docker("network", "inspect", network)
    # `network inspect` lists running containers only; stopped ones still need the network.
    users = _docker("ps", "-aq", "--filter", f"network={network}")
    if exists.returncode == 0 and users.returncode == 0 and not users.stdout.strip():
        _docker("network", "rm", network)


def ensure_volumes(root: Path, names: list[str]) -> None:
    for name in names:
        _docker("volume", "create", "--label", f"kubegate.checkout={root}", "--label", "kubegate.cache=containerd",
                name)


def remove_volumes(names: list[str]) -> None:
    if names:
        _docker("volume", "rm", "-f", *names)
