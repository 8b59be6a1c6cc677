"""Image references in a registry, derived from the checkout alone.

A user's CI runner may have no Docker Engine, so the tags `kubegate images push` writes
must be computable from the source: each image's tag hashes its build folder (and, for the
client, the probes it ships). The same checkout pushes and pulls the same tags.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.rig.build.images import BY_NAME, PROBES, folder_hash

#: the images a cluster needs to run every suite, with the extra folders baked into each
PUSHED: dict[str, tuple[Path, ...]] = {"db": (), "msg": (), "client": (PROBES,), "pulp": ()}

_REGISTRY = re.compile(r"^(?P<host>[A-Za-z0-9.-]+(?::\d+)?)(?P<path>(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)/?$")


def split_registry(value: str) -> tuple[str, str]:
    """'10.245.1.1:5000/kubegate' -> ('10.245.1.1:5000', 'kubegate'); a bad value is one clear line."""
    m = _REGISTRY.match(value.strip())
    if not m or ("." not in m["host"] and ":" not in m["host"] and m["host"] != "localhost"):
        raise KubegateError(f"{value!r} is not REGISTRY[/PREFIX]: give a registry host (with a dot or a port), "
                            f"e.g. registry.example.com/team or 10.245.1.1:5000/kubegate")
    return m["host"], m["path"].strip("/")


def source_tag(root: Path, name: str) -> str:
    h = hashlib.sha256(folder_hash(BY_NAME[name].folder(root)).encode())
    for extra in PUSHED[name]:
        h.update(folder_hash(extra).encode())
    return f"src-{h.hexdigest()[:12]}"


def registry_refs(root: Path, registry: str) -> dict[str, str]:
    """name -> REGISTRY/PREFIX/name:src-<hash> for every image the suites run."""
    host, prefix = split_registry(registry)
    base = f"{host}/{prefix}" if prefix else host
    return {name: f"{base}/{name}:{source_tag(root, name)}" for name in PUSHED}
