"""The Docker Engine kubegate started, stopped again by `kubegate down`, with the host put back.

No init system runs dockerd on these machines, so the project's own script starts it
(cluster/host/ensure-dockerd.sh), after recording what dockerd changes: packet-filter rules,
IPv4 forwarding, the docker0 bridge. An engine kubegate did not start, or one that still runs
containers kubegate does not own, is left alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from kubegate.wait import until

STATE = Path("/run/kubegate/dockerd")


def _pid() -> int | None:
    try:
        return int((STATE / "started").read_text().strip())
    except (OSError, ValueError):
        return None


def stop_if_ours() -> str:
    """One line saying what was done (or why nothing was)."""
    pid = _pid()
    if pid is None:
        return "Docker Engine left running (kubegate did not start it)"
    containers = subprocess.run(["docker", "ps", "-aq"], capture_output=True, text=True, check=False)
    if containers.returncode == 0 and containers.stdout.strip():
        return "Docker Engine left running (it still has containers)"
    with contextlib.suppress(ProcessLookupError):  # already gone (a session's end kills it)
        os.kill(pid, signal.SIGTERM)
    until(lambda: True if not Path(f"/proc/{pid}").exists() else None, timeout=30, every=0.2)
    _restore_host()
    for name in os.listdir(STATE):
        (STATE / name).unlink(missing_ok=True)
    return "Docker Engine stopped; the host's packet filter, IPv4 forwarding and bridges are as before it started"


def _restore_host() -> None:
    before = (STATE / "iptables.before").read_text() if (STATE / "iptables.before").is_file() else ""
    if before.strip():
        subprocess.run(["iptables-restore"], input=before, text=True, capture_output=True, check=False)
    else:  # no rules at all before: drop what dockerd added, policies back to ACCEPT
        for table in ("filter", "nat"):
            subprocess.run(["iptables", "-t", table, "-F"], capture_output=True, check=False)
            subprocess.run(["iptables", "-t", table, "-X"], capture_output=True, check=False)
        subprocess.run(["iptables", "-P", "FORWARD", "ACCEPT"], capture_output=True, check=False)
    forward = (STATE / "ip_forward.before").read_text().strip() if (STATE / "ip_forward.before").is_file() else ""
    if forward in ("0", "1"):
        Path("/proc/sys/net/ipv4/ip_forward").write_text(forward + "\n")
    docker0 = (STATE / "docker0.before").read_text().strip() if (STATE / "docker0.before").is_file() else "yes"
    if docker0 == "no":
        subprocess.run(["ip", "link", "delete", "docker0"], capture_output=True, check=False)
