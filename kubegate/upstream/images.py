"""The images upstream's specs run, built here under their upstream names and put on the minions.

`e2e.test` asks for `registry.k8s.io/e2e-test-images/...` with IfNotPresent; no registry is
reachable, so kubegate builds them (cluster/upstream) and imports them into every minion's
containerd before a run. The set is tagged by content (the folder, the agnhost build, the base
image), saved once into the dist the nodes mount, and imported only where a node has an older set.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.paths import dist_dir
from kubegate.rig.build.images import BASE_REF, folder_hash, image_id

#: the pause image e2e.test names; kubegate's own pause (static, FROM scratch) under that name
UPSTREAM_PAUSE = "registry.k8s.io/pause:3.10.1"
NODE_MARK = "/var/lib/kubegate/e2e-images.tag"


def upstream_names(root: Path) -> dict[str, list[str]]:
    """kubegate image name -> the upstream names it is tagged with (cluster/upstream/images.txt)."""
    out: dict[str, list[str]] = {}
    for line in (root / "cluster" / "upstream" / "images.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, upstream = line.split()
            out.setdefault(name, []).append(upstream)
    return out


def tag_of(root: Path, bins: Path) -> str:
    h = hashlib.sha256(folder_hash(root / "cluster" / "upstream").encode())
    h.update((bins / ".stamp").read_bytes())
    h.update((image_id(BASE_REF) or "").encode())
    return h.hexdigest()[:12]


def ensure_tar(root: Path, bins: Path, pause_ref: str, log: Path) -> tuple[str, Path]:
    """Build what is missing; returns (tag, the one tar holding every upstream-named image)."""
    tag = tag_of(root, bins)
    names = upstream_names(root)
    if any(image_id(f"kubegate/e2e-{n}:{tag}") is None for n in names):
        with log.open("w") as fh:
            rc = subprocess.run(["bash", str(root / "cluster" / "upstream" / "build.sh"), tag, str(bins)],
                                stdout=fh, stderr=subprocess.STDOUT, check=False).returncode
        if rc != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise KubegateError(f"building the e2e images failed: {' | '.join(tail)}; full log: {log}")
    subprocess.run(["docker", "tag", pause_ref, UPSTREAM_PAUSE], check=True, capture_output=True)
    out = dist_dir() / "e2e-images"
    out.mkdir(parents=True, exist_ok=True)
    tar = out / f"e2e-{tag}.tar"
    if not tar.is_file():
        for old in out.glob("e2e-*.tar"):
            old.unlink()
        refs = [u for ups in names.values() for u in ups] + [UPSTREAM_PAUSE]
        tmp = tar.with_suffix(".tmp")
        proc = subprocess.run(["docker", "save", "-o", str(tmp), *refs], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise KubegateError(f"docker save of the e2e images failed: {proc.stderr.strip()[-300:]}")
        tmp.replace(tar)
    return tag, tar


def import_on_minions(shell: Callable[[str, str], str], minions: list[str], tag: str, tar: Path) -> list[str]:
    """Import the set where a minion's mark names another tag; returns the minions imported into."""
    inside = f"/opt/kubegate/dist/e2e-images/{tar.name}"
    cmd = (f"if [ \"$(cat {NODE_MARK} 2>/dev/null)\" = {tag} ]; then echo kept; else "
           f"sudo ctr -n k8s.io images import --no-unpack=false {inside} >/dev/null && "
           f"echo {tag} | sudo tee {NODE_MARK} >/dev/null && echo imported; fi")
    # Side by side: each minion unpacks into its own containerd store.
    with ThreadPoolExecutor(max_workers=max(1, len(minions))) as pool:
        outs = dict(zip(minions, pool.map(lambda node: shell(node, cmd), minions), strict=True))
    for node, out in outs.items():
        if "imported" not in out and "kept" not in out:
            raise KubegateError(f"importing the e2e images on {node} failed: {out.strip()[-300:]}")
    return [node for node, out in outs.items() if "imported" in out]
