"""Check the host tools a bring-up needs before starting anything slow.

A missing tool found twenty minutes into a build is the worst way to learn about it; each
check names the tool and the README's install line in one sentence.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kubegate.errors import KubegateError

_INSTALL = {
    "vagrant": "apt-get install -y vagrant (or run: bash cluster/host/setup.sh)",
    "docker": "apt-get install -y docker.io (or run: bash cluster/host/setup.sh)",
    "go": "bash cluster/host/setup.sh (it installs a bootstrap Go; kubegate fetches a current toolchain)",
    "java": "apt-get install -y openjdk-17-jre-headless (or run: bash cluster/host/setup.sh)",
    "mvn": "apt-get install -y maven (or run: bash cluster/host/setup.sh)",
    "debootstrap": "apt-get install -y debootstrap (or run: bash cluster/host/setup.sh)",
    "kubectl": "put a kubectl within one minor of the server on PATH (kubegate builds one of the server's "
               "version for the local cluster)",
}


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise KubegateError(f"{missing[0]} not found on PATH; install it with: {_INSTALL.get(missing[0], missing[0])}")


def ensure_docker_engine(root: Path) -> None:
    """Start dockerd through the project's script when no engine answers (no init system here)."""
    require("docker")
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0:
        return
    script = root / "cluster" / "host" / "ensure-dockerd.sh"
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise KubegateError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip()
                            else "Docker Engine is not running; start dockerd (cluster/host/ensure-dockerd.sh)")
