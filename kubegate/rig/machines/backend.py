"""What the rig asks of a machine backend (Vagrant today): kind's provider interface.

The backend creates, starts, provisions and destroys machines and says how to reach them;
everything else about the local cluster's machines (which to recreate, provisioning stamps,
strays of interrupted runs, image-store volumes, ssh settings on fixed addresses) is the
rig's, in this package, and the same for every backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class MachineBackend(Protocol):
    logs: Path  # where the backend's own output goes
    network: str  # the docker network it makes for the cluster's subnet (removed by strays when idle)

    def states(self) -> dict[str, str]:
        """machine -> state (`running`, `not_created`, `stopped`, ...)."""
        ...

    def container_ids(self) -> dict[str, str]:
        """machine -> its container id, where machines are containers ("" if unknown): lets a
        running cluster be recognised from the Docker Engine without the backend's start-up."""
        ...

    def up(self, names: list[str] | None = None) -> None:
        """Create or start (and on creation provision) these machines, or all."""
        ...

    def destroy(self, names: list[str] | None = None) -> None: ...

    def provision(self, name: str) -> None: ...

    def ssh_config(self) -> str:
        """An OpenSSH config with a Host entry per machine."""
        ...

    def inserted_keys(self) -> dict[str, Path]:
        """machine -> the private key the backend put on it ({} when not known without asking it)."""
        ...
