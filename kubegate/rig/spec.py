"""The shape of the local cluster: one place for every address, CIDR and version.

The 2014 walkthrough's Vagrant cluster had master 10.245.1.2, minions 10.245.1.3-5 and
portal_net 10.247.0.0/16; kubegate keeps those so the seed's commands still read true.
Everything that renders configs, certificates or the Vagrantfile's settings takes a
ClusterSpec rather than literals, so a second cluster or other addresses stay a one-line
change.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from kubegate.rig.versions import Release, selected

FERRETDB_VERSION = "v1.24.2"
BROKERJ_VERSION = "9.2.1"


@dataclass(frozen=True)
class Node:
    name: str
    ip: str
    role: str  # "master" or "minion"
    pod_cidr: str | None = None  # minions only


@dataclass(frozen=True)
class ClusterSpec:
    name: str = "kubegate"
    network: str = "10.245.1.0/24"
    master_ip: str = "10.245.1.2"
    minion_ips: tuple[str, ...] = ("10.245.1.3", "10.245.1.4", "10.245.1.5")
    service_cidr: str = "10.247.0.0/16"
    pod_cidr: str = "10.246.0.0/16"
    release: Release = field(default_factory=selected)  # the Kubernetes minor asked for (rig.versions)
    apiserver_port: int = 6443
    registry_port: int = 5000
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def kube_version(self) -> str:
        return self.release.kubernetes

    @property
    def etcd_version(self) -> str:
        return self.release.etcd

    @property
    def kube_major_minor(self) -> tuple[int, int]:
        """(1, 37) for v1.37.2: what kubectl's version skew is measured against."""
        return self.release.major_minor

    @property
    def master(self) -> Node:
        return Node("master", self.master_ip, "master")

    @property
    def minions(self) -> list[Node]:
        """minion-N gets the pod /24 10.246.N.0/24 (N from 1)."""
        base = ipaddress.ip_network(self.pod_cidr)
        subnets = list(base.subnets(new_prefix=24))
        return [
            Node(f"minion-{i}", ip, "minion", str(subnets[i]))
            for i, ip in enumerate(self.minion_ips, start=1)
        ]

    @property
    def nodes(self) -> list[Node]:
        return [self.master, *self.minions]

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node {name!r} in cluster {self.name!r}; nodes are {', '.join(n.name for n in self.nodes)}")

    @property
    def apiserver_service_ip(self) -> str:
        """The first address of the service CIDR, which kube-apiserver claims for `kubernetes`."""
        return str(next(ipaddress.ip_network(self.service_cidr).hosts()))

    @property
    def dns_ip(self) -> str:
        """kube-dns' ClusterIP: the service CIDR's tenth address, as kubeadm and kind choose it."""
        return str(ipaddress.ip_network(self.service_cidr).network_address + 10)

    @property
    def registry_ip(self) -> str:
        """The host's own address on the cluster network (its first address, the bridge or
        host-only adapter under every provider): where the local registry listens."""
        return str(next(ipaddress.ip_network(self.network).hosts()))

    @property
    def registry(self) -> str:
        return f"{self.registry_ip}:{self.registry_port}"

    @property
    def apiserver_url(self) -> str:
        return f"https://{self.master_ip}:{self.apiserver_port}"
