"""Registry credentials from where docker keeps them, and the pull Secret built from them.

Users log in once (`docker login`, or `kubegate images push --username`); kubegate reads
that login for pushes and turns it into an image pull Secret in the namespaces it creates.
A password is never an argument, an environment variable of a child, or part of a report.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from kubegate.errors import KubegateError
from kubegate.fs import write_atomic

PULL_SECRET = "kubegate-pull"


def docker_config_dir() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def _config() -> dict[str, Any]:
    path = docker_config_dir() / "config.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KubegateError(f"{path} is not readable JSON ({exc}); fix or move it, then retry") from None
    return data if isinstance(data, dict) else {}


def _helper(name: str, host: str) -> str | None:
    try:
        proc = subprocess.run([f"docker-credential-{name}", "get"], input=host, capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout)
    return base64.b64encode(f"{data['Username']}:{data['Secret']}".encode()).decode()


def lookup(host: str) -> str | None:
    """The base64 `user:password` docker would send to `host`, or None (anonymous)."""
    cfg = _config()
    helper = (cfg.get("credHelpers") or {}).get(host)
    if helper:
        return _helper(helper, host)
    for key in (host, f"https://{host}", f"http://{host}"):
        auth = ((cfg.get("auths") or {}).get(key) or {}).get("auth")
        if auth:
            return str(auth)
    if cfg.get("credsStore"):
        return _helper(str(cfg["credsStore"]), host)
    return None


def save(host: str, username: str, password: str) -> Path:
    """Record a login as `docker login` does (inline auth), in DOCKER_CONFIG or ~/.docker."""
    path = docker_config_dir() / "config.json"
    cfg = _config()
    cfg.setdefault("auths", {})[host] = {"auth": dockerconfigjson_auth(username, password)}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(path, json.dumps(cfg, indent=2).encode(), 0o600)
    return path


def dockerconfigjson_auth(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def dockerconfigjson(host: str, auth: str) -> str:
    return json.dumps({"auths": {host: {"auth": auth}}})


def pull_manifest(host: str | None, namespace: str) -> str:
    """A Secret with the login for `host` and the namespace's default ServiceAccount naming it,
    so every pod of the namespace pulls with it; "" when there is nothing to log in with."""
    if not host:
        return ""
    auth = lookup(host)
    if not auth:
        return ""
    data = base64.b64encode(dockerconfigjson(host, auth).encode()).decode()
    return (f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {PULL_SECRET}\n  namespace: {namespace}\n"
            f"type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {data}\n"
            f"---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: {namespace}\n"
            f"imagePullSecrets:\n  - name: {PULL_SECRET}\n")
