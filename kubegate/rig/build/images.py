"""Build the project's images locally and export the ones minions run into the dist.

No registry is reachable, so every image comes from `<folder>/build.sh TAG`: the cluster's own
images in cluster/images/ (the base, the node, pause, CoreDNS), the workloads under test and
their clients in cluster/workloads/ (db, msg, client, pulp).
Tags are content hashes of the image folder (plus the base image they build on), so an
unchanged image is never rebuilt and a changed one can never be mistaken for the old.
Minions get images as `docker save` tars imported into containerd at provisioning;
`images/index.json` records which image id each tar holds so nodes skip re-imports.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.paths import dist_dir
from kubegate.rig.build import logscan, proc
from kubegate.rig.build.proc import BuildFailed, Stop

BASE_REF = "kubegate/debian:bookworm"
#: The client image's probes: kubegate's own package, wherever it is installed (a checkout or a
#: wheel); build.sh takes them from KUBEGATE_PROBES_DIR.
PROBES = Path(__file__).resolve().parents[2] / "services" / "probes"


@dataclass(frozen=True)
class Image:
    name: str
    on_minions: bool  # exported into the dist and imported into every minion's containerd
    depends_on_base: bool = True
    kind: str = "images"  # cluster/images: the cluster's own; cluster/workloads: what is under test
    go_binaries: bool = False  # built by cluster/images/go-image.sh, which its tag hashes too

    def folder(self, root: Path) -> Path:
        return root / "cluster" / self.kind / self.name


BASE = Image("debian", on_minions=False, depends_on_base=False)
IMAGES = (
    Image("node", on_minions=False),
    Image("pause", on_minions=True, depends_on_base=False),
    Image("db", on_minions=True, kind="workloads"),
    Image("msg", on_minions=True, kind="workloads"),
    Image("client", on_minions=True, kind="workloads"),
    Image("coredns", on_minions=True, depends_on_base=False, go_binaries=True),
    Image("metallb", on_minions=True, depends_on_base=False, go_binaries=True),
    Image("pulp", on_minions=True, kind="workloads"),
)
BY_NAME = {i.name: i for i in (BASE, *IMAGES)}


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise KubegateError("docker CLI not found; install it with: apt-get install -y docker.io") from None
    if check and proc.returncode != 0:
        raise KubegateError(f"docker {args[0]} failed: {proc.stderr.strip().splitlines()[-1:] or '?'}")
    return proc


def image_id(ref: str) -> str | None:
    proc = _docker("image", "inspect", "--format", "{{.Id}}", ref, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def folder_hash(folder: Path) -> str:
    """Of every file under `folder` (names and bytes), or of `folder` itself when it is a file."""
    h = hashlib.sha256()
    files = ([folder] if folder.is_file() else
             [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts])
    for f in sorted(files):
        h.update(str(f.relative_to(folder) if f != folder else f.name).encode() + b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()


def image_ref(root: Path, image: Image, base_id: str | None, extra_inputs: tuple[Path, ...] = ()) -> str:
    h = hashlib.sha256(folder_hash(image.folder(root)).encode())
    if image.depends_on_base and base_id:
        h.update(base_id.encode())
    for extra in extra_inputs:
        h.update(folder_hash(extra).encode())
    return f"kubegate/{image.name}:{h.hexdigest()[:12]}"


def _build(root: Path, name: str, ref: str, log_dir: Path, stop: Stop | None = None,
           no_cache: bool = False, running: dict[str, Path] | None = None) -> None:
    """`<folder>/NAME/build.sh REF`, its output in the log; a failure names the Dockerfile
    step that failed and the log's first error line, not its last line."""
    script = BY_NAME[name].folder(root) / "build.sh"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"image-{name}.log"
    log.write_text("")
    # The legacy builder prints `Step N/M : ...` lines (what progress and errors quote), and
    # --force-rm removes the intermediate container of a failed or cancelled step.
    build_args = f"--force-rm --label {BUILT_LABEL}=1" + (" --no-cache" if no_cache else "")
    env = {**os.environ, "DOCKER_BUILDKIT": "0", "KUBEGATE_BUILD_ARGS": build_args,
           "KUBEGATE_PROBES_DIR": str(PROBES), "KUBEGATE_PYTHON": sys.executable}
    if running is not None:
        running[name] = log
    try:
        rc = proc.run(["bash", str(script), ref], log=log, stop=stop, cwd=script.parent, env=env)
    finally:
        if running is not None:
            running.pop(name, None)
    if rc != 0:
        text = log.read_text(errors="replace")
        step = logscan.docker_step(text)
        raise BuildFailed(f"building image {name} failed{' at ' + step if step else ''}: "
                          f"{logscan.first_error(text)}", log)


#: Images built side by side once the base exists. They share nothing but the base, and most of
#: their time is downloads (Maven, npm, PyPI, the Go module proxy) that would otherwise wait on
#: each other and on the Go build running beside this step; two of them (db's FerretDB,
#: CoreDNS) compile Go, so more workers would only queue for the same two cores.
BUILD_WORKERS = 4


def ensure_images(root: Path, log_dir: Path, workers: int = BUILD_WORKERS, *, stop: Stop | None = None,
                  no_cache: bool = False, running: dict[str, Path] | None = None) -> dict[str, str]:
    """Build what is missing (everything, base included, with `no_cache`: the canary that finds a
    registry change before a new user does); returns image name -> ref (tag) for every image.

    The first failed build stops the others at once (through `stop`, shared with the rest of the
    bring-up) and is raised with its own log; builds that were stopped are not reported."""
    stop = stop or Stop()
    if no_cache or image_id(BASE_REF) is None:
        _build(root, "debian", BASE_REF, log_dir, stop, no_cache, running)
        record_debian_packages(BASE_REF)
    base_id = image_id(BASE_REF)
    refs: dict[str, str] = {}
    for image in IMAGES:
        extra = ((PROBES,) if image.name == "client" else
                 (root / "cluster" / "images" / "go-image.sh",) if image.go_binaries else ())
        refs[image.name] = image_ref(root, image, base_id, extra)
    missing = [i.name for i in IMAGES if no_cache or image_id(refs[i.name]) is None]

    proc.side_by_side(lambda name: _build_checked(root, name, refs[name], log_dir, stop, no_cache, running),
                      missing, stop, workers=max(1, workers), name=lambda name: f"image {name}")
    if missing:
        prune_replaced()
    return refs


def _build_checked(root: Path, name: str, ref: str, log_dir: Path, stop: Stop, no_cache: bool,
                   running: dict[str, Path] | None) -> None:
    _build(root, name, ref, log_dir, stop, no_cache, running)
    if image_id(ref) is None:
        raise KubegateError(f"{BY_NAME[name].folder(root)}/build.sh exited 0 but built no image {ref}")
    record_debian_packages(ref)


#: Every image kubegate builds carries this label, so the images its rebuilds replace (untagged,
#: no container using them) can be removed without touching anyone else's.
BUILT_LABEL = "io.kubegate.built"


def prune_replaced() -> None:
    """Remove kubegate's images that a rebuild left untagged (a no-cache canary every CI run
    would otherwise leave a whole set behind each time); images a container uses stay."""
    _docker("image", "prune", "--force", "--filter", f"label={BUILT_LABEL}", check=False)


#: The label that records which Debian package versions an image was built with: bookworm moves
#: (point releases, security updates), so two builds of the same lock can differ here, and the
#: label is where to look when they behave differently.
DEBIAN_LABEL = "io.kubegate.debian-packages"


def record_debian_packages(ref: str) -> None:
    """Label `ref` with `package=version ...` of every Debian package in it (none for FROM-scratch
    images: nothing is recorded then). The label is added by a one-line build on top, so the
    tag keeps naming the image and its content is unchanged."""
    listing = _docker("run", "--rm", "--network", "none", "--entrypoint", "dpkg-query", ref,
                      "-W", "-f", "${Package}=${Version} ", check=False)
    if listing.returncode != 0 or not listing.stdout.strip():
        return
    packages = " ".join(sorted(listing.stdout.split()))
    dockerfile = f"FROM {ref}\nLABEL {DEBIAN_LABEL}={json.dumps(packages)}\n"
    proc_ = subprocess.run(["docker", "build", "-q", "-t", ref, "-"], input=dockerfile, text=True,
                           capture_output=True, check=False, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    if proc_.returncode != 0:
        raise KubegateError(f"labelling {ref} with its Debian packages failed: {proc_.stderr.strip()[-300:]}")


def describe_running(running: dict[str, Path]) -> str:
    """`client Step 7/12 (RUN ...), msg Step 3/9 (...)`: what the image builds are doing now."""
    parts = []
    for name, log in sorted(dict(running).items()):
        try:
            step = logscan.docker_step(log.read_text(errors="replace"), width=60)
        except OSError:
            step = ""
        parts.append(f"{name} {step or 'preparing'}")
    return ", ".join(parts)


def qualified(ref: str) -> str:
    """The name containerd gives an imported image: Docker Hub's implicit domain made explicit."""
    first = ref.split("/", 1)[0]
    if "/" in ref and ("." in first or ":" in first or first == "localhost"):
        return ref
    return f"docker.io/{ref}" if "/" in ref else f"docker.io/library/{ref}"


def _save(ref: str, tar: Path) -> None:
    tmp = tar.with_suffix(".tar.tmp")
    _docker("save", "-o", str(tmp), ref)
    tmp.replace(tar)


def export_for_minions(refs: dict[str, str]) -> Path:
    """`docker save` each minion image whose tar is missing or stale; returns the images folder."""
    out = dist_dir() / "images"
    out.mkdir(parents=True, exist_ok=True)
    index_path = out / "index.json"
    index: dict[str, dict[str, str]] = json.loads(index_path.read_text()) if index_path.is_file() else {}
    stale: dict[Path, tuple[str, str]] = {}
    for image in IMAGES:
        if not image.on_minions:
            continue
        ref = refs[image.name]
        iid = image_id(ref) or ""
        tar = out / f"{image.name}.tar"
        entry = index.get(tar.name, {})
        if not (tar.is_file() and entry.get("id") == iid and entry.get("ref") == qualified(ref)):
            stale[tar] = (ref, iid)
    # Saves are disk-bound and independent: side by side they take about as long as the largest.
    with ThreadPoolExecutor(max_workers=max(1, len(stale))) as pool:
        list(pool.map(lambda tar: _save(stale[tar][0], tar), stale))
    for tar, (ref, iid) in stale.items():
        index[tar.name] = {"ref": qualified(ref), "id": iid}
    # A tar of an image the checkout no longer builds (another branch's) would be imported too.
    wanted = {f"{i.name}.tar" for i in IMAGES if i.on_minions}
    for tar in out.glob("*.tar"):
        if tar.name not in wanted:
            tar.unlink()
            index.pop(tar.name, None)
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return out
