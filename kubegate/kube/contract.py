"""What kubectl's stdout/stderr contract is checked against: which local kubectls to test (those
within the server's skew), and a namespace holding one of each namespaced kind the contract
lists (a Service, a bare pod, a ReplicationController and its pod)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from kubegate.kube import objects, skew
from kubegate.kube.kubectl import Kubectl

NAMES_JSONPATH = 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'


def clients_to_test(kubeconfig: Path, context: str | None,
                    local_minor: tuple[int, int] | None) -> tuple[list[skew.KubectlBinary], str]:
    """The local kubectls within the server's ±1 minor skew, and why there are none if so.

    Asks the server (one `get --raw /version`); before the local cluster is up, `local_minor`
    (the version it is built at) stands in for the server."""
    disc = skew.discover(kubeconfig, context)
    binaries, reason = disc.to_run()
    if disc.server is None and local_minor is not None:
        binaries = [b for b in binaries if skew.within_skew((b.major, b.minor), local_minor)]
        reason = reason or f"no local kubectl within ±{skew.SKEW} of v{local_minor[0]}.{local_minor[1]}"
    return binaries, reason or ""


def outside_skew(binary: skew.KubectlBinary, kubeconfig: Path, context: str | None) -> str:
    """Why `binary` is outside the server's skew now ("" when it is within, or the server is silent)."""
    disc = skew.discover(kubeconfig, context)
    if disc.server and not skew.within_skew((binary.major, binary.minor), disc.server):
        return f"{binary.label} outside ±{skew.SKEW} of server {disc.server[0]}.{disc.server[1]}"
    return ""


@dataclass
class ContractNs:
    name: str
    images: dict[str, str]
    k: Kubectl = field(repr=False)

    @classmethod
    def create(cls, k: Kubectl, name: str, image: str) -> ContractNs:
        """In the namespace `name` (created by the caller): kg-svc, kg-pod, and kg-rc with one pod."""
        k = k.with_namespace(name)
        pod = objects.pod("kg-pod", image, ["sleep", "3600"], container="sleep", labels={"app": "kg-pod"})
        rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "kg-rc"},
              "spec": {"replicas": 1, "selector": {"app": "kg-rc"},
                       "template": objects.pod_template("", image, ["sleep", "3600"], container="sleep",
                                                         labels={"app": "kg-rc"})}}
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kg-svc"},
               "spec": {"selector": {"app": "kg-rc"}, "ports": [{"port": 80, "targetPort": 8080}]}}
        k.apply(json.dumps(objects.object_list([pod, rc, svc])))
        return cls(name, {"client": image}, k)

    @functools.cached_property
    def rc_pod(self) -> str:
        """The RC's pod, once both pods are Ready: waited for on first use, so the tests about
        Services, errors and flags do not wait for pods to start."""
        self.k.wait("pod/kg-pod", "condition=Ready", timeout=90)
        self.k.wait("rc/kg-rc", "jsonpath={.status.readyReplicas}=1", timeout=90)
        rc_pods = self.k.run("get", "pods", "-l", "app=kg-rc", "-o", NAMES_JSONPATH).stdout.split()
        if len(rc_pods) != 1:
            raise AssertionError(f"RC kg-rc should own exactly one pod, found {rc_pods}")
        return rc_pods[0]

    def literals(self) -> dict[str, str]:
        """Run-specific strings -> placeholders, for golden comparisons."""
        out = {self.rc_pod: "kg-rc-<POD>", self.name: "<NS>"}
        out.update({ref: f"<{name.upper()}-IMAGE>" for name, ref in self.images.items()})
        return out
