"""Where kubegate's read-only assets, its writable state, its reports and its build caches live.

Three places, kept apart so an installed wheel works from any directory:
- assets (manifests/, cluster/ with the Vagrantfile, provisioning and image contexts): the
  checkout this package sits in, or `kubegate/assets/` inside an installed wheel; never written.
- state (`.cluster/`, Vagrant's `.vagrant/`, the Vagrantfile stub): `KUBEGATE_STATE_DIR`,
  else the checkout the command runs in (or this package's checkout), else a per-user
  directory. Vagrant's `/vagrant` synced folder is the state directory: that is how nodes
  receive their rendered files.
- reports: `KUBEGATE_REPORTS_DIR`, else `./reports` of where the user runs.
Caches (Go build and module caches, binaries, image tars) sit outside all three, so every
checkout, install and CI clone on the machine reuses them.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubegate.errors import KubegateError

_PACKAGE = Path(__file__).resolve().parent
STATE_ENV = "KUBEGATE_STATE_DIR"
REPORTS_ENV = "KUBEGATE_REPORTS_DIR"


def is_checkout(d: Path) -> bool:
    return (d / "Vagrantfile").is_file() and (d / "kubegate").is_dir() and (d / "cluster").is_dir()


def checkout(start: Path | None = None) -> Path | None:
    """The kubegate checkout holding `start` (default: the working directory), else the one
    holding this package (an editable install), else None (an installed wheel)."""
    for base in (start or Path.cwd(), _PACKAGE.parent):
        for d in [base, *base.parents]:
            if is_checkout(d):
                return d
    return None


def assets() -> Path:
    """manifests/, cluster/ (Vagrantfile, provisioning, image contexts), read-only."""
    if is_checkout(_PACKAGE.parent):
        return _PACKAGE.parent
    packaged = _PACKAGE / "assets"
    if not (packaged / "cluster").is_dir():
        raise KubegateError(f"kubegate's assets are missing from {_PACKAGE}: reinstall kubegate "
                            "(pip install --force-reinstall kubegate)")
    return packaged


def state_dir(start: Path | None = None) -> Path:
    env = os.environ.get(STATE_ENV)
    if env:
        d = Path(env).expanduser().resolve()
    else:
        found = checkout(start)
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        d = found if found is not None else base / "kubegate"
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KubegateError(f"state directory {d}: {exc.strerror}; set {STATE_ENV} or --state-dir to a "
                            "writable folder") from None
    return d


def cache_dir() -> Path:
    env = os.environ.get("KUBEGATE_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kubegate"
    base.mkdir(parents=True, exist_ok=True)
    return base


def dist_dir() -> Path:
    """What nodes mount read-only at /opt/kubegate/dist: bin/ and images/."""
    return cache_dir() / "dist"


def cluster_dir(state: Path) -> Path:
    return state / ".cluster"


def reports_dir(start: Path | None = None) -> Path:
    """`KUBEGATE_REPORTS_DIR`, else `reports/` of `start` (default: the working directory)."""
    env = os.environ.get(REPORTS_ENV)
    return Path(env).expanduser().resolve() if env else (start or Path.cwd()) / "reports"
