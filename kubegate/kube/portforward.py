"""`kubectl port-forward` to one pod, on a loopback port the kernel picks.

How the host talks to a pod directly without a route to the pod network: traffic goes to
127.0.0.1 and through the API server to the kubelet, so it reaches the pod itself, past every
Service rule. Used where "does the backend itself accept this?" must be told apart from the
plumbing in front of it.
"""

from __future__ import annotations

import re
import selectors
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kubegate.errors import KubegateError
from kubegate.kube.kubectl import Kubectl

FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) ->")


@contextmanager
def port_forward(k: Kubectl, pod: str, port: int, timeout: float = 15) -> Iterator[int]:
    """Yields the local port; the forwarder is stopped when the block ends, whatever happens."""
    cmd = [k.binary, *k.base_args(), "port-forward", f"pod/{pod}", f":{port}", "--address", "127.0.0.1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        deadline, seen = time.monotonic() + timeout, ""
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if sel.select(timeout=0.2):
                    line = proc.stdout.readline()
                    seen += line
                    if m := FORWARDING.search(line):
                        yield int(m.group(1))
                        return
                    if not line and proc.poll() is not None:
                        break
        err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
        raise KubegateError(f"kubectl port-forward pod/{pod} :{port} did not start: {(err or seen).strip()[-200:]}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
