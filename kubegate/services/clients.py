"""Client pods on each minion, and probes run from them or from the host.

The seed checked its services by hand from one place. kubegate checks them from a pod on
every minion (a node-aware matrix: kube-proxy's rules differ per node) and from the host
through the publicIP, with the same probe code (`kubegate-probe`, shipped in the client
image) so a failure reads the same wherever it happened. Every probe's latency goes to the
run report.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kubegate.kube import objects, topology
from kubegate.kube.kubectl import Kubectl
from kubegate.services.asks import Ask
from kubegate.services.unchanged import Listing, born

CLIENT_LABEL = "kubegate.io/client"
CLIENT_SET_LABEL = "kubegate.io/client-set"  # WARM_SET: the pods runs keep and share


@dataclass(frozen=True)
class ProbeOutcome:
    """One probe's JSON result, plus where it ran from (for messages and the report)."""

    name: str
    origin: str
    ok: bool
    latency_ms: float
    details: dict[str, Any]
    error: str | None
    target: str = ""  # host:port the probe really connected to ($VARs expanded in the pod)

    def explain(self) -> str:
        return f"{self.name} from {self.origin}: {self.error or 'ok'}"


def client_pod(name: str, node: str | None, image: str, run_id: str | None) -> dict[str, Any]:
    """A pod that idles so probes can be exec'd in it; pinned to `node` unless None.

    A pinned client tolerates a cordon (as DaemonSet pods do): a disruptive suite cordoning
    nodes must not leave another worker's per-node clients Pending."""
    return objects.pod(name, image, ["sleep", "infinity"], container="client", node=node, run_id=run_id,
                       labels={CLIENT_LABEL: "true"}, tolerate_cordon=node is not None)


def start_clients(k: Kubectl, image: str, nodes: list[str], prefix: str) -> dict[str, str]:
    """Create one client pod of the kept set per node without waiting for them: node -> pod name."""
    pods = {node: f"{prefix}-{node}" for node in nodes}
    items = [client_pod(name, node, image, None) for node, name in pods.items()]
    for item in items:
        item["metadata"]["labels"][CLIENT_SET_LABEL] = WARM_SET
    k.apply(json.dumps(objects.object_list(items)))
    return pods


#: The client set runs keep between them (CLIENT_SET_LABEL's value).
WARM_SET = "warm"


def ensure_warm_clients(k: Kubectl, image: str, nodes: list[str],
                        discovered: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """One client pod per node that runs keep, like db and msg: (node -> pod name, the
    pods not Ready yet, for `wait_ready`).

    Starting three client pods was the longest wait of a warm smoke run (about two seconds)
    for pods that only idle. A kept pod is reused only while it runs the client image wanted
    now and is younger than the `discovered` Services (its variables name them); otherwise it
    is replaced. These pods carry no run label, so a run's cleanup leaves them; they go with
    the services' namespace (`kubegate undeploy`). Callers hold a lock: two runs of one
    checkout must not build the set at once."""
    listing = Listing(k.get_json("services,pods")["items"])
    since = listing.youngest("Service", discovered)
    keep: dict[str, dict[str, Any]] = {}
    stale: list[str] = []
    for pod in listing.items:
        labels = pod["metadata"].get("labels") or {}
        if pod["kind"] != "Pod" or labels.get(CLIENT_SET_LABEL) != WARM_SET or pod["metadata"].get("deletionTimestamp"):
            continue
        node = (pod["spec"].get("nodeSelector") or {}).get("kubernetes.io/hostname", "")
        current = (pod["spec"]["containers"][0]["image"] == image and born(pod) >= since
                   and pod.get("status", {}).get("phase") in ("Pending", "Running"))
        if current and node not in keep:
            keep[node] = pod
        else:
            stale.append(pod["metadata"]["name"])
    if stale:
        k.run_e("delete", "pod", *stale, "--ignore-not-found", "--wait=false")
    pods = {node: pod["metadata"]["name"] for node, pod in keep.items() if node in nodes}
    missing = [node for node in nodes if node not in keep]
    if missing:
        pods.update(start_clients(k, image, missing, f"kg-client-{secrets.token_hex(2)}"))
    return pods, [pods[node] for node in nodes if node in missing or not topology.is_ready(keep[node])]


def wait_ready(k: Kubectl, pods: list[str], timeout: float = 120) -> None:
    for pod in pods:
        k.wait(f"pod/{pod}", "condition=Ready", timeout=timeout)


def _outcome(name: str, origin: str, stdout: str, stderr: str, rc: int) -> ProbeOutcome:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except ValueError:
                break
            return ProbeOutcome(name, origin, bool(data.get("ok")), float(data.get("latency_ms") or 0.0),
                                dict(data.get("details") or {}), data.get("error"), str(data.get("target") or ""))
    err = (stderr.strip() or stdout.strip() or f"exit {rc}").splitlines()[-1]
    return ProbeOutcome(name, origin, False, 0.0, {}, f"probe did not run ({err})")


def _record(outcome: ProbeOutcome, started: float, expect_ok: bool) -> None:
    """Recorded as failed only when the outcome is not what the test expects (a refusal probe
    that is refused has done its job)."""
    from kubegate.report import current
    current().record_probe(outcome.name, outcome.latency_ms / 1000.0, outcome.ok == expect_ok,
                           source=outcome.origin, wall_s=round(time.monotonic() - started, 3))


_ENV_REF = re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*$")


def _shell_word(arg: str) -> str:
    """`$DB_SERVICE_HOST` expands in the pod (the seed's discovery path); every other argument
    reaches the probe as written: a path with `?`, a body with spaces (an Http ask's)."""
    return f'"{arg}"' if _ENV_REF.match(arg) else shlex.quote(arg)


def probe_in_pod(k: Kubectl, pod: str, name: str, ask: Ask, *, stdin: str | None = None,
                 timeout: float = 90, expect_ok: bool = True) -> ProbeOutcome:
    """`kubectl exec POD -- kubegate-probe ARGS --json`; `$VAR` in the ask expands inside the pod."""
    started = time.monotonic()
    script = "exec kubegate-probe " + " ".join(_shell_word(a) for a in ask.args()) + " --json"
    exec_args = ["exec", *(["-i"] if stdin is not None else []), pod, "--", "sh", "-c", script]
    res = k.run_e(*exec_args, stdin=stdin, timeout=timeout)
    outcome = _outcome(name, f"pod {pod}", res.stdout, res.stderr, res.returncode)
    _record(outcome, started, expect_ok)
    return outcome


def probe_each(k: Kubectl, pods: dict[str, str], name: str, ask: Ask, *, stdin: str | None = None,
               timeout: float = 90) -> dict[str, ProbeOutcome]:
    """The same probe from several nodes' client pods side by side: node -> outcome. Each
    waits on a kubectl exec and a client's start-up, not on the CPU, so three cost about one."""
    with ThreadPoolExecutor(max_workers=max(1, len(pods))) as pool:
        futures = {node: pool.submit(probe_in_pod, k, pod, name, ask, stdin=stdin, timeout=timeout)
                   for node, pod in pods.items()}
        return {node: future.result() for node, future in futures.items()}


def probe_from_host(name: str, ask: Ask, *, env: dict[str, str] | None = None,
                    timeout: float = 90, expect_ok: bool = True) -> ProbeOutcome:
    """The same probe code, run on the host (the seed's `mongo <minion IP>` from the desktop)."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kubegate.services.probes", *ask.args(), "--json"],
                          capture_output=True, text=True, timeout=timeout, env=env, check=False)
    outcome = _outcome(name, "host", proc.stdout, proc.stderr, proc.returncode)
    _record(outcome, started, expect_ok)
    return outcome
