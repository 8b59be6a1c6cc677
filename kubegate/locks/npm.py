"""npm packages on the host, installed from the same committed lock as the client image.

The host's mongosh (the seed's `echo "show dbs" | mongosh <publicIP>` from the host) lives in
`$KUBEGATE_CACHE/node`. It is installed with `npm ci` from cluster/workloads/client/mongosh, so the
host and the image run the same mongosh and its whole tree, and a stamp of the lock's digest
decides when to reinstall: a renewed lock reinstalls, an unchanged one costs nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.paths import cache_dir

MONGOSH_LOCK = Path("cluster") / "workloads" / "client" / "mongosh"


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def install_locked(lock_folder: Path, prefix: Path, timeout_s: float = 900) -> Path:
    """`npm ci` of lock_folder's package.json + package-lock.json into `prefix`; returns prefix."""
    stamp = prefix / ".kubegate-lock"
    digest = _digest(lock_folder)
    if stamp.is_file() and stamp.read_text().strip() == digest and (prefix / "node_modules").is_dir():
        return prefix
    npm = shutil.which("npm")
    if not npm:
        raise KubegateError("npm not found; install Node.js >= 16 with npm (bash cluster/host/setup.sh)")
    prefix.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(lock_folder / name, prefix / name)
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--omit=dev"], cwd=prefix, capture_output=True,
                          text=True, timeout=timeout_s, check=False)
    if proc.returncode != 0:
        from kubegate.rig.build.logscan import first_error
        raise KubegateError(f"npm ci in {prefix} failed: {first_error(proc.stdout + proc.stderr)}")
    stamp.write_text(digest + "\n")
    return prefix


def install_mongosh(root: Path) -> str:
    """The host's mongosh, from the lock (installed on first use or when the lock changed)."""
    prefix = install_locked(root / MONGOSH_LOCK, cache_dir() / "node")
    binary = prefix / "node_modules" / ".bin" / "mongosh"
    if not binary.exists():
        raise KubegateError(f"npm ci in {prefix} installed no mongosh; check {root / MONGOSH_LOCK}/package.json")
    return str(binary)


def main() -> int:
    """`python3 -m kubegate.locks.npm`: install the host's mongosh (setup.sh) and print its path."""
    import sys

    from kubegate.paths import assets
    try:
        print(install_mongosh(assets()))
    except KubegateError as exc:
        print(f"kubegate: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
