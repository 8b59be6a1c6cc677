"""A least-privilege kubeconfig: the ServiceAccount of manifests/rbac.yaml, with a bound token.

What a user hands kubegate instead of an admin kubeconfig: the same server and CA, the
ServiceAccount's token (TokenRequest, time-limited), nothing else. The CI run proves the suites
pass with exactly these rights.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from kubegate.errors import KubegateError
from kubegate.kube.kubectl import Kubectl

NAMESPACE, ACCOUNT = "kubegate-system", "kubegate"


def token_kubeconfig(admin: Kubectl, rbac: Path, out: Path, duration: str = "2h") -> Path:
    """Apply `rbac` (manifests/rbac.yaml) with `admin`, and write `out` (0600) for its ServiceAccount."""
    admin.apply(rbac.read_text())
    token = admin.run("create", "token", ACCOUNT, "-n", NAMESPACE, f"--duration={duration}").stdout.strip()
    view = json.loads(admin.run("config", "view", "--raw", "--minify", "--flatten", "-o", "json").stdout)
    clusters = view.get("clusters") or []
    if not clusters:
        raise KubegateError(f"kubeconfig {admin.kubeconfig} names no cluster for its current context")
    cluster = clusters[0]["cluster"]
    config = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "kubegate", "cluster": cluster}],
        "users": [{"name": f"{NAMESPACE}:{ACCOUNT}", "user": {"token": token}}],
        "contexts": [{"name": "kubegate", "context": {"cluster": "kubegate", "user": f"{NAMESPACE}:{ACCOUNT}"}}],
        "current-context": "kubegate",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(yaml.safe_dump(config, sort_keys=False))
    return out
