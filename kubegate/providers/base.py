"""The cluster-provider interface every backend implements.

Suites only ever talk to a provider: a kubeconfig, the public IP the services are
exposed on, and (where the backend has them) shell access to nodes. Whether the
cluster came from Vagrant or was handed over by the user is the provider's business.
"""

from __future__ import annotations

import contextlib
import json
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.kube import publicip
from kubegate.kube.kubectl import Kubectl
from kubegate.kube.topology import WorkerScope
from kubegate.rig import versions


@dataclass
class ClusterStatus:
    healthy: bool
    summary: str
    machines: dict[str, str] = field(default_factory=dict)  # name -> state
    ready_nodes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class ClusterProvider(ABC):
    name: str = "abstract"
    #: whether node shells (`vagrant ssh`) and node-level diagnostics are available
    has_node_shell: bool = False

    @property
    @abstractmethod
    def kubeconfig(self) -> Path: ...

    @property
    def context(self) -> str | None:
        return None

    @property
    @abstractmethod
    def public_ip(self) -> str:
        """The address Services expose as externalIPs (the seed's publicIPs)."""

    @abstractmethod
    def up(self) -> None:
        """Make the cluster usable: create, repair or reuse it, and wait for Ready nodes."""

    @abstractmethod
    def down(self, purge: bool = False) -> None:
        """Destroy what `up` created; `purge` also drops caches kept for the next `up`."""

    @abstractmethod
    def status(self) -> ClusterStatus: ...

    def images(self) -> dict[str, str]:
        """Image references for db, msg and client; overridable with KUBEGATE_<NAME>_IMAGE."""
        return {name: os.environ.get(f"KUBEGATE_{name.upper()}_IMAGE", ref) for name, ref in self._images().items()}

    def _images(self) -> dict[str, str]:
        return {}

    @property
    def image_registry_host(self) -> str | None:
        """The registry host images are pulled from, when the provider was given one."""
        return None

    #: how the seed's controllers pull: the local rig imports images (Never); a user's nodes pull
    pull_policy: str = "IfNotPresent"

    def serving_ca(self) -> tuple[Path, Path]:
        """(CA certificate, CA key) that signs certificates kubegate serves (the web API's):
        kubegate's own CA per checkout, since a cluster of yours does not hand out its CA key."""
        from kubegate.paths import cluster_dir, state_dir
        from kubegate.rig.pki import own_ca
        return own_ca(cluster_dir(state_dir()) / "web-ca")

    def namespace_manifest(self, namespace: str) -> str:
        """Objects every namespace kubegate creates needs besides itself (an image pull Secret)."""
        return ""

    def facts(self) -> dict[str, str]:
        """Versions a report reader needs to reproduce a verdict: server, nodes, the kubectl used."""
        k = self.kubectl()
        out: dict[str, str] = {"cluster provider": self.name, "kubectl binary": k.binary}
        res = k.run_e("version", "-o", "json", timeout=30)
        if res.returncode == 0:
            data = json.loads(res.stdout)
            server = data.get("serverVersion", {})
            out["server version"] = server.get("gitVersion", "?")
            out["kubectl client version"] = data.get("clientVersion", {}).get("gitVersion", "?")
            out.update(versions.server_notices(server.get("major", ""), server.get("minor", ""),
                                               external_ips=publicip.mode() == publicip.EXTERNAL_IPS))
        from kubegate.kube import topology
        with contextlib.suppress(KubegateError):  # facts are what could be read; the suites judge the rest
            for n in topology.read_nodes(k):
                info = n["status"]["nodeInfo"]
                out[f"node {n['metadata']['name']}"] = (f"kubelet {info['kubeletVersion']}, "
                                                        f"{info['containerRuntimeVersion']}, {info['osImage']}")
        return out

    def collection_nodes(self) -> list[str]:
        """The nodes per-node tests are parametrized with (see node_scope)."""
        return list(self.node_scope().nodes)

    def node_scope(self) -> WorkerScope:
        """The live cluster's worker nodes, read from the API at collection (raises KubegateError
        when it does not answer): the Ready schedulable ones per-node tests run on, and the ones
        they leave out with why, which the verdict names."""
        from kubegate.kube import topology
        return topology.worker_scope(topology.read_nodes(self.kubectl()))

    def node_shell(self, node: str, command: str, timeout: float = 60) -> str:
        raise NotImplementedError(f"the {self.name} provider has no node shell")

    def kubectl(self, namespace: str | None = None) -> Kubectl:
        """A Kubectl on the best client within the server's skew (the machine's default kubectl
        may dispatch to one outside it); the choice is cached per cluster."""
        from kubegate.kube.skew import resolve_binary
        return Kubectl(self.kubeconfig, context=self.context, namespace=namespace,
                       binary=resolve_binary(self.kubeconfig, self.context))
