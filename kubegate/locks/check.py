"""Where a lock and the manifest it was generated from disagree: a lock that no longer says what
its manifest asks for installs something nobody chose. Each rule returns one line per problem
naming the lock and the command that renews it; `[]` means the lock holds."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from kubegate.locks.catalog import LOCKS, Lock, MavenLock, NpmLock, PipLock

FIX = "renew it with: kubegate locks update"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
_MAVEN = re.compile(r"^[\w.-]+:[\w.-]+:[\w.-]+:[\w.-]+(?::[\w.-]+)? [0-9a-f]{128}$")


def pinned(lock_text: str) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a pip lock (`name==version \\ --hash=...`)."""
    out: dict[str, tuple[str, int]] = {}
    current = None
    for raw in lock_text.splitlines():
        line = raw.strip()
        m = _PIN.match(line)
        if m:
            current = canonicalize_name(m.group(1))
            out[current] = (m.group(2), 0)
        elif line.startswith("--hash=") and current:
            version, hashes = out[current]
            out[current] = (version, hashes + 1)
        elif line and not line.startswith("#"):
            current = None if not line.startswith("--hash") else current
    return out


def requirements_of(root: Path, lock: PipLock) -> list[str]:
    """The requirement lines a pip lock was compiled from."""
    reqs: list[str] = []
    for rel in lock.sources:
        src = root / rel
        if src.name == "pyproject.toml":
            data = tomllib.loads(src.read_text())
            if lock.build_system:
                reqs += data["build-system"]["requires"]
            else:
                reqs += data["project"].get("dependencies", [])
                for extra in lock.extras:
                    reqs += data["project"].get("optional-dependencies", {}).get(extra, [])
        else:
            reqs += [line.split("#", 1)[0].strip() for line in src.read_text().splitlines()
                     if line.split("#", 1)[0].strip() and not line.strip().startswith("-")]
    return reqs


def pip_problems(root: Path, lock: PipLock) -> list[str]:
    where = f"{lock.lock} ({lock.name})"
    try:
        pins = pinned((root / lock.lock).read_text())
    except OSError:
        return [f"{where} is missing; {FIX}"]
    problems = []
    for line in requirements_of(root, lock):
        try:
            req = Requirement(line)
        except InvalidRequirement as exc:
            problems.append(f"{where}: its source asks for {line!r}, which is no requirement ({exc})")
            continue
        if req.marker is not None and not req.marker.evaluate({"python_version": "3.11", "sys_platform": "linux"}):
            continue
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{where} has no {req.name} (asked for {line!r}); {FIX}")
        elif not req.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{where} pins {req.name}=={pins[name][0]}, but {line!r} is asked for; {FIX}")
    problems += [f"{where}: {name}=={version} has no --hash; {FIX}" for name, (version, n) in pins.items() if not n]
    if lock.constraint:
        other = pinned((root / lock.constraint).read_text()) if (root / lock.constraint).is_file() else {}
        problems += [f"{where} pins {name}=={version} but {lock.constraint} pins {other[name][0]}; {FIX}"
                     for name, (version, _) in pins.items() if name in other and other[name][0] != version]
    return problems


def npm_problems(root: Path, lock: NpmLock) -> list[str]:
    folder = root / lock.folder
    where = f"{lock.folder}/package-lock.json ({lock.name})"
    try:
        manifest = json.loads((folder / "package.json").read_text())
        data = json.loads((folder / "package-lock.json").read_text())
    except (OSError, ValueError) as exc:
        return [f"{where}: cannot read it or its package.json ({exc}); {FIX}"]
    problems = []
    if data.get("lockfileVersion", 0) < 2:
        problems.append(f"{where} is lockfileVersion {data.get('lockfileVersion')}; npm ci needs 2 or 3; {FIX}")
    packages: dict[str, dict[str, object]] = data.get("packages", {})
    rooted = packages.get("", {})
    for field in ("dependencies", "devDependencies", "optionalDependencies"):
        if manifest.get(field, {}) != rooted.get(field, {}):
            problems.append(f"{where}: {field} {rooted.get(field, {})} differ from package.json's "
                            f"{manifest.get(field, {})}; {FIX}")
    for name, version in manifest.get("overrides", {}).items():
        if not isinstance(version, str):
            continue
        found = {str(p.get("version")) for key, p in packages.items() if key.endswith(f"node_modules/{name}")}
        if found and found != {version}:
            problems.append(f"{where}: package.json overrides {name} to {version}, the lock has {sorted(found)}; {FIX}")
    unhashed = [key for key, p in packages.items() if key and not p.get("link") and not p.get("integrity")]
    if unhashed:
        problems.append(f"{where}: {len(unhashed)} packages without an integrity hash (first: {unhashed[0]}); {FIX}")
    return problems


def maven_problems(root: Path, lock: MavenLock) -> list[str]:
    try:
        lines = [line for line in (root / lock.lock).read_text().splitlines() if line and not line.startswith("#")]
    except OSError:
        return [f"{lock.lock} ({lock.name}) is missing"]
    bad = [line for line in lines if not _MAVEN.match(line)]
    if not lines or bad:
        return [f"{lock.lock} ({lock.name}): expected `GROUP:ARTIFACT:VERSION:EXT[:CLASSIFIER] SHA512` lines, "
                f"got {bad[:1] or 'none'}"]
    return []


def problems(root: Path, locks: tuple[Lock, ...] = LOCKS) -> list[str]:
    out: list[str] = []
    for lock in locks:
        if isinstance(lock, PipLock):
            out += pip_problems(root, lock)
        elif isinstance(lock, NpmLock):
            out += npm_problems(root, lock)
        else:
            out += maven_problems(root, lock)
    return out
