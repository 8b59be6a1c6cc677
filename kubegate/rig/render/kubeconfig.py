"""Kubeconfigs with every certificate embedded.

Embedding (rather than pointing at files) lets one file travel into a node's rootfs or onto a
developer's machine and keep working wherever it lands; the price is that it holds a private
key, so it is always written 0600.
"""

from __future__ import annotations

import base64
import contextlib
import stat
from pathlib import Path

import yaml

from kubegate.errors import KubegateError
from kubegate.fs import write_atomic
from kubegate.rig.pki import KEY_MODE


def _b64(pem: bytes) -> str:
    return base64.b64encode(pem).decode("ascii")


def _require_pem(what: str, pem: bytes, marker: bytes) -> None:
    """Swapped cert/key arguments would only surface as a TLS error on a node; catch them here."""
    if not isinstance(pem, bytes) or b"-----BEGIN " not in pem or marker not in pem:
        raise ValueError(f"{what} must be PEM bytes containing {marker.decode()!r}")


def render_kubeconfig(
    cluster_name: str,
    server: str,
    ca_pem: bytes,
    client_cert_pem: bytes,
    client_key_pem: bytes,
    user: str,
) -> str:
    """One cluster, one user, one context named `user@cluster_name` and selected, so no `--context` is needed."""
    if not server.startswith("https://"):
        raise ValueError(f"server must be an https:// URL (client certs are useless over plain http), got {server!r}")
    _require_pem("ca_pem", ca_pem, b"CERTIFICATE-----")
    _require_pem("client_cert_pem", client_cert_pem, b"CERTIFICATE-----")
    _require_pem("client_key_pem", client_key_pem, b"PRIVATE KEY-----")
    context = f"{user}@{cluster_name}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster_name, "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}},
        ],
        "users": [
            {
                "name": user,
                "user": {"client-certificate-data": _b64(client_cert_pem), "client-key-data": _b64(client_key_pem)},
            },
        ],
        "contexts": [{"name": context, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": context,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def write_kubeconfig(path: Path, text: str) -> bool:
    """Write `text` 0600 unless the file already holds it; returns whether it wrote.

    Leaving an unchanged file alone keeps its mtime, which is what tells provisioning that
    nothing needs restarting.
    """
    data = text.encode()
    with contextlib.suppress(OSError):
        if path.read_bytes() == data:
            if stat.S_IMODE(path.stat().st_mode) != KEY_MODE:
                path.chmod(KEY_MODE)
            return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise KubegateError(f"cannot create {path.parent}: {e.strerror}; make it a writable directory") from e
    write_atomic(path, data, KEY_MODE)
    return True
