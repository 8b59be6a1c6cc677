"""Where the checkout, the per-cluster state and the build caches live.

Caches (Go build and module caches, binaries, image tars) sit outside the checkout so a
fresh clone, CI's included, reuses them; per-cluster state (`.cluster/`) sits inside it
because Vagrant's `/vagrant` synced folder is how nodes receive their rendered files.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubegate.errors import KubegateError


def repo_root(start: Path | None = None) -> Path:
    """The checkout holding the Vagrantfile: from the working directory up, else this package's parent."""
    candidates = [start or Path.cwd(), Path(__file__).resolve().parent.parent]
    for base in candidates:
        for d in [base, *base.parents]:
            if (d / "Vagrantfile").is_file() and (d / "kubegate").is_dir():
                return d
    raise KubegateError("no kubegate checkout found (a folder with Vagrantfile and kubegate/); run from the repo")


def cache_dir() -> Path:
    env = os.environ.get("KUBEGATE_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kubegate"
    base.mkdir(parents=True, exist_ok=True)
    return base


def dist_dir() -> Path:
    """What nodes mount read-only at /opt/kubegate/dist: bin/ and images/."""
    return cache_dir() / "dist"


def cluster_dir(root: Path) -> Path:
    return root / ".cluster"


def reports_dir(root: Path) -> Path:
    return root / "reports"
