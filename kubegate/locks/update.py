"""Renew the locks from their manifests, with each ecosystem's own resolver: npm for npm, uv for
pip (hashes of every file of each pinned version, so one lock serves any platform), Maven for
Maven. Run it when a manifest changes or to take new releases on purpose; review the diff,
rebuild without cache (`kubegate build --no-cache`), commit."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.locks.catalog import LOCKS, Lock, MavenLock, NpmLock, PipLock

#: The Python the host and both images run (Debian bookworm's 3.11; the host needs >= 3.11).
PYTHON_VERSION = "3.11"
MAVEN_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


def _tool(name: str, fix: str) -> str:
    found = shutil.which(name)
    if not found:
        raise KubegateError(f"{name} not found; {fix}")
    return found


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise KubegateError(f"{' '.join(cmd[:3])} failed in {cwd}: {' | '.join(tail)}")


def update_npm(root: Path, lock: NpmLock) -> None:
    npm = _tool("npm", "install Node.js with npm (bash cluster/host/setup.sh)")
    _run([npm, "install", "--package-lock-only", "--no-audit", "--no-fund"], root / lock.folder)


def update_pip(root: Path, lock: PipLock) -> None:
    uv = _tool("uv", "install the dev tools: pip install --require-hashes -r cluster/host/requirements.txt")
    cmd = [uv, "pip", "compile", "--quiet", "--generate-hashes", "--python-version", PYTHON_VERSION,
           "--custom-compile-command", "kubegate locks update", "-o", lock.lock]
    with tempfile.TemporaryDirectory() as tmp:
        sources = list(lock.sources)
        if lock.build_system:  # uv compiles requirements, not a [build-system] table: hand it those
            from kubegate.locks.check import requirements_of
            req = Path(tmp) / "build-system.in"
            req.write_text("\n".join(requirements_of(root, lock)) + "\n")
            sources = [str(req)]
            cmd.append("--no-annotate")  # the temporary file's name would change the lock every time
        for extra in lock.extras:
            cmd += ["--extra", extra]
        if lock.constraint:
            cmd += ["--constraint", lock.constraint]
        _run([*cmd, *sources], root)


def update_maven(root: Path, lock: MavenLock) -> None:
    mvn = _tool("mvn", "apt-get install -y maven (or bash cluster/host/setup.sh)")
    path = root / lock.lock
    out = []
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            out.append(line)
            continue
        coord = line.split()[0]
        group, artifact, version, ext, *classifier = coord.split(":")
        _run([mvn, "-q", "-B", f"{MAVEN_PLUGIN}:get", f"-Dartifact={coord}", "-Dtransitive=false"], root)
        name = f"{artifact}-{version}" + (f"-{classifier[0]}" if classifier else "") + f".{ext}"
        file = Path.home() / ".m2" / "repository" / Path(*group.split(".")) / artifact / version / name
        out.append(f"{coord} {hashlib.sha512(file.read_bytes()).hexdigest()}")
    path.write_text("\n".join(out) + "\n")


def update(root: Path, only: str | None = None) -> Iterator[str]:
    """Renew every lock (or those whose path starts with `only`, e.g. cluster/workloads/pulp); a line per lock."""
    chosen: list[Lock] = [lk for lk in LOCKS if only is None or _where(lk).startswith(only.rstrip("/"))]
    if not chosen:
        raise KubegateError(f"no lock under {only!r}; locks: " + ", ".join(_where(lk) for lk in LOCKS))
    # Constrained locks after the lock they follow (the catalog lists them in that order).
    for lock in chosen:
        if isinstance(lock, PipLock):
            update_pip(root, lock)
        elif isinstance(lock, NpmLock):
            update_npm(root, lock)
        else:
            update_maven(root, lock)
        yield f"renewed {_where(lock)} ({lock.name})"


def _where(lock: Lock) -> str:
    return lock.folder + "/package-lock.json" if isinstance(lock, NpmLock) else lock.lock


