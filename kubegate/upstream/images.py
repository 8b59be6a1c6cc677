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
from kubegate.upstream.ginkgo import private_tmp

#: the pause repository e2e.test names; kubegate's own pause (static, FROM scratch) gets its tag
UPSTREAM_PAUSE = "registry.k8s.io/pause"
NODE_MARK = "/var/lib/kubegate/e2e-images.tag"
KEEP_TARS = 3  # one per supported minor


def listed_images(bins: Path) -> list[str]:
    """Every image this e2e.test may ask for (`e2e.test --list-images`): the tags move with each
    Kubernetes minor, so they are read from the judge itself, never written down here."""
    with private_tmp() as env:
        proc = subprocess.run([str(bins / "e2e.test"), "--list-images"], capture_output=True, text=True,
                              check=False, cwd=env["TMPDIR"], env=env)
    refs = [line.strip() for line in proc.stdout.splitlines() if ":" in line.strip()]
    if proc.returncode != 0 or not refs:
        raise KubegateError(f"e2e.test --list-images failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return refs


def upstream_names(root: Path, listed: list[str]) -> dict[str, list[str]]:
    """kubegate image name -> the upstream names it is tagged with: each repository of
    cluster/upstream/images.txt at every tag e2e.test lists for it."""
    out: dict[str, list[str]] = {}
    for line in (root / "cluster" / "upstream" / "images.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, repository = line.split()
            tags = [ref for ref in listed if ref.rsplit(":", 1)[0] == repository]
            if tags:  # a repository this minor's specs no longer use (1.37 dropped httpd) is not tagged
                out[name] = tags
    if "agnhost" not in out:
        raise KubegateError("e2e.test lists no registry.k8s.io/e2e-test-images/agnhost image, which most specs run; "
                            "cluster/upstream/images.txt is out of date")
    return out


def tag_of(root: Path, bins: Path) -> str:
    h = hashlib.sha256(folder_hash(root / "cluster" / "upstream").encode())
    h.update((bins / ".stamp").read_bytes())
    h.update((image_id(BASE_REF) or "").encode())
    return h.hexdigest()[:12]


def ensure_tar(root: Path, bins: Path, pause_ref: str, log: Path) -> tuple[str, Path]:
    """Build what is missing; returns (tag, the one tar holding every upstream-named image)."""
    tag = tag_of(root, bins)
    listed = listed_images(bins)
    names = upstream_names(root, listed)
    pauses = [ref for ref in listed if ref.rsplit(":", 1)[0] == UPSTREAM_PAUSE]
    if any(image_id(f"kubegate/e2e-{n}:{tag}") is None for n in names) or any(image_id(u) is None for ups in
                                                                              names.values() for u in ups):
        with log.open("w") as fh:
            names_file = log.with_suffix(".names")
            names_file.write_text("\n".join(f"{n} {u}" for n, ups in names.items() for u in ups) + "\n")
            rc = subprocess.run(["bash", str(root / "cluster" / "upstream" / "build.sh"), tag, str(bins),
                                 str(names_file)], stdout=fh, stderr=subprocess.STDOUT, check=False).returncode
        if rc != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise KubegateError(f"building the e2e images failed: {' | '.join(tail)}; full log: {log}")
    for pause in pauses:
        subprocess.run(["docker", "tag", pause_ref, pause], check=True, capture_output=True)
    out = dist_dir() / "e2e-images"
    out.mkdir(parents=True, exist_ok=True)
    tar = out / f"e2e-{tag}.tar"
    if not tar.is_file():
        # Side by side, one set per Kubernetes minor switched between (the newest few kept).
        for old in sorted(out.glob("e2e-*.tar"), key=lambda p: p.stat().st_mtime)[:-KEEP_TARS + 1]:
            old.unlink()
        refs = [u for ups in names.values() for u in ups] + pauses
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
