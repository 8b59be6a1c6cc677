"""`kubectl port-forward` to one pod, on a loopback port the kernel picks.

How the host talks to a pod directly without a route to the pod network: traffic goes to
127.0.0.1 and through the API server to the kubelet, so it reaches the pod itself, past every
Service rule. Used where "does the backend itself accept this?" must be told apart from the
plumbing in front of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from kubegate.kube.kubectl import Kubectl
from kubegate.kube.serving import serving

FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) ->")


@contextmanager
def port_forward(k: Kubectl, pod: str, port: int, timeout: float = 15) -> Iterator[int]:
    """Yields the local port; the forwarder is stopped when the block ends, whatever happens."""
    cmd = [k.binary, *k.base_args(), "port-forward", f"pod/{pod}", f":{port}", "--address", "127.0.0.1"]
    with serving(cmd, FORWARDING, timeout) as m:
        yield int(m.group(1))
