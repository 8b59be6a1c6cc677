"""`kubegate images push`: kubegate's images into a registry the user's nodes pull from.

crane does the registry protocol (chunked uploads, token and basic auth, cross-repo
mounts, skipping blobs the registry already has) from the `docker save` tars the rig
already exports, so no Docker Engine needs to trust the registry. Credentials reach crane
through a private DOCKER_CONFIG written for the one registry, never its command line.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.fs import write_atomic
from kubegate.paths import assets
from kubegate.registry import creds
from kubegate.registry.refs import PUSHED, registry_refs, split_registry
from kubegate.rig.build import gobuild

SYSTEM_CAS = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class Pushed:
    name: str
    ref: str
    digest: str
    seconds: float


def _ca_bundle(ca_file: Path, into: Path) -> Path:
    """System roots plus the given CA: Go's SSL_CERT_FILE replaces the roots, it does not add."""
    if not ca_file.is_file():
        raise KubegateError(f"--ca-file {ca_file} does not exist")
    bundle = into / "ca-bundle.crt"
    system = SYSTEM_CAS.read_bytes() if SYSTEM_CAS.is_file() else b""
    bundle.write_bytes(system + b"\n" + ca_file.read_bytes())
    return bundle


def push(root: Path, registry: str, tars: dict[str, Path], *, auth: str | None, ca_file: Path | None,
         progress: Callable[[str], None] = print) -> list[Pushed]:
    """Push each image tar under its source tag; returns what was pushed with its digest."""
    host, _ = split_registry(registry)
    refs = registry_refs(assets(), registry)
    crane = gobuild.build(gobuild.crane_target()) / "crane"
    out: list[Pushed] = []
    with tempfile.TemporaryDirectory(prefix="kubegate-push-") as tmp:
        env = {**os.environ}
        if auth:
            cfg = Path(tmp) / "docker"
            cfg.mkdir(mode=0o700)
            write_atomic(cfg / "config.json", creds.dockerconfigjson(host, auth).encode(), 0o600)
            env["DOCKER_CONFIG"] = str(cfg)
        if ca_file is not None:
            env["SSL_CERT_FILE"] = str(_ca_bundle(ca_file, Path(tmp)))
        for name in PUSHED:
            started = time.monotonic()
            proc = subprocess.run([str(crane), "push", str(tars[name]), refs[name]], capture_output=True, text=True,
                                  env=env, timeout=900, check=False)
            if proc.returncode != 0:
                raise KubegateError(f"pushing {name} to {refs[name]} failed: {_reason(proc.stderr, host)}")
            digest = proc.stdout.strip().rsplit("@", 1)[-1]
            out.append(Pushed(name, refs[name], digest, time.monotonic() - started))
            progress(f"pushed {refs[name]} ({digest[:19]}, {out[-1].seconds:.1f} s)")
    return out


def _reason(stderr: str, host: str) -> str:
    """crane's last line, with what to do about the usual causes."""
    last = (stderr.strip().splitlines() or ["no output"])[-1]
    low = last.lower()
    if "unauthorized" in low or "authentication required" in low or "401" in low or "denied" in low:
        return (f"{last} (the registry refused the login: pass --username U with the password on stdin, "
                f"or log in with docker login {host})")
    if "x509" in low or "certificate" in low:
        return f"{last} (the registry's certificate is not trusted: pass --ca-file PATH to its CA)"
    if "connection refused" in low or "no route" in low or "i/o timeout" in low or "no such host" in low:
        return f"{last} (registry {host} unreachable: is it running and is the address right?)"
    return last


