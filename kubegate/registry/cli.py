"""`kubegate images push`: what the command does between parsing and printing."""

from __future__ import annotations

import sys
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.paths import assets, cluster_dir
from kubegate.registry import creds
from kubegate.registry.local import USER, LocalRegistry
from kubegate.registry.push import push
from kubegate.registry.refs import PUSHED, split_registry
from kubegate.rig.spec import ClusterSpec


def _password_from_stdin(username: str) -> str:
    if sys.stdin.isatty():
        raise KubegateError(f"--username {username} reads the password from stdin; pipe it in "
                            f"(e.g. < password-file), it is never an argument")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise KubegateError(f"--username {username}: stdin held no password")
    return password


def _image_tars(root: Path) -> dict[str, Path]:
    """The `docker save` tars the rig exports for minions: built (or reused) here."""
    from kubegate.rig.build.images import ensure_images, export_for_minions
    from kubegate.rig.prereqs import ensure_docker_engine
    ensure_docker_engine(assets())
    refs = ensure_images(assets(), cluster_dir(root) / "logs")
    folder = export_for_minions(refs)
    return {name: folder / f"{name}.tar" for name in PUSHED}


def push_images(root: Path, registry: str | None, username: str | None, ca_file: Path | None) -> int:
    spec = ClusterSpec()
    local = LocalRegistry(root, spec)
    registry = registry or f"{local.address}/kubegate"
    host, _ = split_registry(registry)
    is_local = host == local.address
    password = _password_from_stdin(username) if username else None
    if is_local:
        info = local.up()
        print(info.describe(), flush=True)
        ca_file = ca_file or info.ca_file
    auth: str | None
    if username and password is not None:
        auth = creds.dockerconfigjson_auth(username, password)
    else:
        auth = creds.lookup(host)
        if auth is None and is_local:  # kubegate knows its own registry's login
            auth = creds.dockerconfigjson_auth(USER, local.info().password_file.read_text().strip())
    tars = _image_tars(root)
    pushed = push(root, registry, tars, auth=auth, ca_file=ca_file, progress=lambda s: print(s, flush=True))
    if username and password is not None:
        where = creds.save(host, username, password)
        print(f"login for {host} saved in {where} (as docker login does)")
    total = sum(p.seconds for p in pushed)
    print(f"pushed {len(pushed)} images in {total:.1f} s; run the suites on your cluster with: "
          f"--image-registry {registry}")
    for p in pushed:
        print(f"  {p.name}: {p.ref}@{p.digest}")
    return 0
