"""The host's kernel settings, snapshotted before the local cluster starts and compared after.

Node containers see the host's /proc/sys; kernel.* and vm.* are not per network namespace,
so anything a node writes there (kubelet's tunables, systemd-sysctl) would change the host
for everyone. The node image shadows what kubelet writes (kubegate-init); this module is
the evidence that it worked: a snapshot taken while no node runs, and a diff against it.
"""

from __future__ import annotations

import json
from pathlib import Path

PROC_SYS = Path("/proc/sys")
PREFIXES = ("kernel", "vm")
#: values the kernel itself changes while running; not settings anybody wrote
VOLATILE = (
    "kernel.random.", "kernel.ns_last_pid", "kernel.pty.nr", "kernel.perf_event_max_sample_rate",
    "kernel.sched_domain.", "kernel.tainted", "vm.stat_refresh", "vm.drop_caches", "vm.compact_memory",
)
#: what kubelet's setupKernelTunables writes; named first when they differ
KUBELET_TUNABLES = ("vm.overcommit_memory", "vm.panic_on_oom", "kernel.panic", "kernel.panic_on_oops",
                    "kernel.keys.root_maxkeys", "kernel.keys.root_maxbytes")


def read(root: Path = PROC_SYS, prefixes: tuple[str, ...] = PREFIXES) -> dict[str, str]:
    """`sysctl -a` for the given top-level keys, minus the volatile ones."""
    values: dict[str, str] = {}
    for prefix in prefixes:
        base = root / prefix
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            key = ".".join(path.relative_to(root).parts)
            if key.startswith(VOLATILE) or not path.is_file():
                continue
            try:
                values[key] = " ".join(path.read_text().split())
            except OSError:  # write-only or permission-protected entries
                continue
    return values


def diff(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """`key: before -> after` for every setting present in both that changed, kubelet's first."""
    changed = [k for k in before if k in after and before[k] != after[k]]
    changed.sort(key=lambda k: (k not in KUBELET_TUNABLES, k))
    return [f"{k}: {before[k]} -> {after[k]}" for k in changed]


def save(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def load(path: Path) -> dict[str, str] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None
