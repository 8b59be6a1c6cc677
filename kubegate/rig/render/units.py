"""systemd units for the control plane and the minions' node agents.

Kubernetes the Hard Way runs every component as a plain systemd unit; kubegate does the
same so that a stopped node container, started again, heals by itself (units are enabled,
state lives on the node's disk) without provisioning running again.
"""

from __future__ import annotations

from kubegate.rig.spec import ClusterSpec, Node

PKI = "/etc/kubernetes/pki"
KUBE = "/etc/kubernetes"


def _unit(description: str, exec_start: list[str], *, after: str = "network-online.target",
          pre: list[str] | None = None, extra: str = "") -> str:
    """A long-running service restarted on failure: components wait for each other by retrying."""
    cmd = " \\\n  ".join(exec_start)
    # No start limit (a [Unit] key: systemd ignores it under [Service]): a component waiting for
    # another, the controller-manager for the API server's RBAC, may fail five times in ten seconds.
    lines = ["[Unit]", f"Description={description}", f"Wants={after}", f"After={after}", "StartLimitIntervalSec=0",
             "", "[Service]"]
    lines += [f"ExecStartPre={p}" for p in pre or []]
    lines += [f"ExecStart={cmd}", "Restart=always", "RestartSec=2"]
    if extra:
        lines.append(extra)
    lines += ["", "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(lines)


def etcd(spec: ClusterSpec) -> str:
    """Single-member etcd on the master's loopback, TLS with client-cert auth on both ports."""
    peer = "https://127.0.0.1:2380"
    return _unit("etcd (kubegate)", [
        "/usr/local/bin/etcd",
        "--name=master",
        "--data-dir=/var/lib/etcd",
        "--listen-client-urls=https://127.0.0.1:2379",
        "--advertise-client-urls=https://127.0.0.1:2379",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=master={peer}",
        "--initial-cluster-state=new",
        f"--cert-file={PKI}/etcd-server.crt",
        f"--key-file={PKI}/etcd-server.key",
        f"--trusted-ca-file={PKI}/ca.crt",
        "--client-cert-auth=true",
        f"--peer-cert-file={PKI}/etcd-server.crt",
        f"--peer-key-file={PKI}/etcd-server.key",
        f"--peer-trusted-ca-file={PKI}/ca.crt",
        "--peer-client-cert-auth=true",
        "--listen-metrics-urls=http://127.0.0.1:2381",
        "--log-level=warn",
    ])


def kube_apiserver(spec: ClusterSpec) -> str:
    return _unit("kube-apiserver (kubegate)", [
        "/usr/local/bin/kube-apiserver",
        f"--advertise-address={spec.master_ip}",
        "--bind-address=0.0.0.0",
        f"--secure-port={spec.apiserver_port}",
        "--allow-privileged=true",
        "--anonymous-auth=false",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        f"--client-ca-file={PKI}/ca.crt",
        "--etcd-servers=https://127.0.0.1:2379",
        f"--etcd-cafile={PKI}/ca.crt",
        f"--etcd-certfile={PKI}/apiserver-etcd-client.crt",
        f"--etcd-keyfile={PKI}/apiserver-etcd-client.key",
        f"--kubelet-certificate-authority={PKI}/ca.crt",
        f"--kubelet-client-certificate={PKI}/apiserver-kubelet-client.crt",
        f"--kubelet-client-key={PKI}/apiserver-kubelet-client.key",
        "--kubelet-preferred-address-types=InternalIP",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={PKI}/sa.pub",
        f"--service-account-signing-key-file={PKI}/sa.key",
        f"--service-cluster-ip-range={spec.service_cidr}",
        f"--tls-cert-file={PKI}/kube-apiserver.crt",
        f"--tls-private-key-file={PKI}/kube-apiserver.key",
        "--profiling=false",
        "--v=1",
    ], after="etcd.service")


def _kubeconfig_flags(kc: str) -> list[str]:
    """The same client identity for the API and for delegated authn/authz of its own port."""
    return [f"--kubeconfig={kc}", f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}"]


def kube_controller_manager(spec: ClusterSpec) -> str:
    kc = f"{KUBE}/controller-manager.kubeconfig"
    return _unit("kube-controller-manager (kubegate)", [
        "/usr/local/bin/kube-controller-manager",
        *_kubeconfig_flags(kc),
        "--bind-address=127.0.0.1",
        f"--cluster-name={spec.name}",
        f"--root-ca-file={PKI}/ca.crt",
        f"--service-account-private-key-file={PKI}/sa.key",
        "--use-service-account-credentials=true",
        f"--service-cluster-ip-range={spec.service_cidr}",
        # Pod /24s are fixed per minion by the CNI config (minion-N -> 10.246.N.0/24), so the
        # controller must not hand out CIDRs of its own in registration order.
        "--allocate-node-cidrs=false",
        "--leader-elect=false",
        "--profiling=false",
        "--v=1",
    ], after="kube-apiserver.service")


def kube_scheduler(spec: ClusterSpec) -> str:
    kc = f"{KUBE}/scheduler.kubeconfig"
    return _unit("kube-scheduler (kubegate)", [
        "/usr/local/bin/kube-scheduler",
        *_kubeconfig_flags(kc),
        "--bind-address=127.0.0.1",
        "--leader-elect=false",
        "--profiling=false",
        "--v=1",
    ], after="kube-apiserver.service")


#: a folder holding only the cluster CA, added to containerd's TLS roots
EXTRA_ROOTS = "/etc/kubegate/ca"


def containerd() -> str:
    """containerd 2 as kubegate built it (the dist), with kubegate's config; the node image has none."""
    return _unit("containerd (kubegate)", ["/usr/local/bin/containerd --config /etc/containerd/config.toml"],
                 after="kubegate-node-prep.service",
                 pre=["-/sbin/modprobe overlay"],
                 # The cluster CA joins the system roots for pulls: hosts.toml's `ca` covers only
                 # [host] entries, not the server fallback a missing image (404)
                 # falls through to, which would then report x509 instead of "not found".
                 extra=("Delegate=yes\nKillMode=process\nLimitNOFILE=1048576\nType=notify\n"
                        f"Environment=SSL_CERT_DIR=/etc/ssl/certs:{EXTRA_ROOTS}"))


def kubelet(node: Node) -> str:
    """kubelet on the node's systemd (kubegate-init gives each node container its own cgroup tree)."""
    return _unit("kubelet (kubegate)", [
        "/usr/local/bin/kubelet",
        "--config=/var/lib/kubelet/config.yaml",
        f"--kubeconfig={KUBE}/kubelet.kubeconfig",
        f"--node-ip={node.ip}",
        f"--hostname-override={node.name}",
        "--v=1",
    ], after="containerd.service")


def kube_proxy(node: Node) -> str:
    return _unit("kube-proxy (kubegate)", [
        "/usr/local/bin/kube-proxy",
        "--config=/var/lib/kube-proxy/config.yaml",
        "--v=1",
    ], after="kubegate-node-prep.service")


def node_prep_unit() -> str:
    """Oneshot run at every boot: routes and kernel knobs live in the container's netns,
    which a restarted node container gets anew."""
    return "\n".join([
        "[Unit]", "Description=kubegate node preparation (routes, sysctls, cgroups)",
        "Wants=network-online.target", "After=network-online.target", "",
        "[Service]", "Type=oneshot", "RemainAfterExit=yes",
        "ExecStart=/usr/local/sbin/kubegate-node-prep", "",
        "[Install]", "WantedBy=multi-user.target", "",
    ])
