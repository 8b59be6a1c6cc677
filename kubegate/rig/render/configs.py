"""Component configuration files: kubelet, kube-proxy, containerd and CNI.

The settings that differ from upstream defaults are the ones a node needs when it is a
container on a shared 2-core host (kind's choices): no swap check, eviction thresholds
at 0% so a busy host disk does not evict the suites' pods, no image GC, no OOM score
lowering (the node lacks CAP_SYS_RESOURCE), and no image pulls (nothing is reachable).
"""

from __future__ import annotations

import json

import yaml

from kubegate.rig.spec import ClusterSpec, Node

PKI = "/etc/kubernetes/pki"
#: the images provisioning and the upstream judge import into every minion's containerd
#: (kubegate's own, upstream's e2e images and pause under their upstream names)
PRELOADED = ("kubegate/*", "docker.io/kubegate/*", "registry.k8s.io/*")


def kubelet_config(spec: ClusterSpec, node: Node) -> str:
    cfg = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": f"{PKI}/ca.crt"},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": "systemd",
        "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock",
        "tlsCertFile": f"{PKI}/kubelet.crt",
        "tlsPrivateKeyFile": f"{PKI}/kubelet.key",
        "clusterDomain": "cluster.local",
        "clusterDNS": [spec.dns_ip],
        "resolvConf": "/etc/resolv.conf",
        "podCIDR": node.pod_cidr,
        "failSwapOn": False,
        "oomScoreAdj": 0,
        "evictionHard": {
            "memory.available": "0%",
            "nodefs.available": "0%",
            "nodefs.inodesFree": "0%",
            "imagefs.available": "0%",
        },
        "imageGCHighThresholdPercent": 100,
        "serializeImagePulls": False,
        "protectKernelDefaults": False,
        "nodeStatusReportFrequency": "10s",
        "syncFrequency": "10s",
        # The rig's hosts run cgroup v1 (RIG-NOTES); kubelet refuses it from 1.35 unless told
        # otherwise. Deprecated upstream (KEP-5573), still supported through 1.37.
        "failCgroupV1": False,
        # From 1.35 kubelet re-verifies pull credentials for images it once pulled with a Secret
        # (KEP-2535): after the existing-cluster path pulled kubegate's images from the local
        # registry with a login, a pod using the same image as the rig's preloaded node image
        # (pull policy Never) got ErrImageNeverPull. What kubegate preloads on every node is a
        # node image any pod may use; everything else keeps being verified.
        "imagePullCredentialsVerificationPolicy": "NeverVerifyAllowlistedImages",
        "preloadedImagesVerificationAllowlist": list(PRELOADED),
    }
    return yaml.safe_dump(cfg, sort_keys=False)


def kube_proxy_config(spec: ClusterSpec, node: Node) -> str:
    cfg = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": "/etc/kubernetes/kube-proxy.kubeconfig"},
        "mode": "iptables",
        "clusterCIDR": spec.pod_cidr,
        "hostnameOverride": node.name,
        "bindAddress": node.ip,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "oomScoreAdj": 0,
        # The host's conntrack table is shared and its size is not the container's to set.
        "conntrack": {"maxPerCore": 0},
    }
    return yaml.safe_dump(cfg, sort_keys=False)


def containerd_config(sandbox_image: str) -> str:
    """containerd 2's CRI settings (config version 3: images and runtime are separate plugins)."""
    return f'''version = 3

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    # Built locally and imported at provisioning: containerd must never try to pull it.
    sandbox = "{sandbox_image}"
  # Per-registry trust (hosts.toml), as for any private registry: the local one's CA.
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = "/etc/containerd/certs.d"

[plugins.'io.containerd.cri.v1.runtime']
  # Lowering oom_score_adj needs CAP_SYS_RESOURCE, which the node container lacks.
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "/usr/local/bin/runc"
        SystemdCgroup = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/opt/cni/bin"]
    conf_dir = "/etc/cni/net.d"
'''


def crictl_yaml() -> str:
    """crictl talks to containerd, as on a kubeadm or kind node."""
    return ("runtime-endpoint: unix:///run/containerd/containerd.sock\n"
            "image-endpoint: unix:///run/containerd/containerd.sock\n"
            "timeout: 10\n")


def registry_hosts_toml(spec: ClusterSpec) -> str:
    """containerd pulls from the local registry over TLS verified against the cluster CA
    (containerd's unit also adds that CA to its roots, for the fallback server entry)."""
    return (f'server = "https://{spec.registry}"\n\n'
            f'[host."https://{spec.registry}"]\n'
            '  capabilities = ["pull", "resolve"]\n'
            '  ca = "/etc/kubernetes/pki/ca.crt"\n')


def cni_conflist(spec: ClusterSpec, node: Node) -> str:
    """bridge + host-local on the minion's fixed /24; no masquerade, routes carry pod IPs."""
    conf = {
        "cniVersion": "0.4.0",
        "name": spec.name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": node.pod_cidr}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(conf, indent=2) + "\n"
