"""Remove what a run created even when it is interrupted: Ctrl-C, SIGTERM from CI, a crash.

Three layers, each covering the gaps of the one before:
1. fixtures delete what they made in their finalizers (pytest runs them on Ctrl-C too);
2. at session end the run deletes every namespace in its registry, and everything labelled
   with its run id (namespaces, and pods it put in the shared services namespace), even
   objects created by code that never registered them;
3. `kubegate sweep` removes what a killed run (SIGKILL, a lost CI runner) left, by label,
   skipping runs that are still alive.
A live run holds an flock on `.cluster/runs/<run-id>.lock`; the kernel drops it when the
process dies however it dies, which is what lets sweep tell "left over" from "in use".
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from kubegate import mutex
from kubegate.kube import namespaces
from kubegate.kube.kubectl import Kubectl
from kubegate.kube.namespaces import OWNER_LABEL, RUN_LABEL, SHARED_LABEL

#: kinds a run may create inside the shared services namespace (client pods, for example)
SHARED_NS_KINDS = "pods,services,replicationcontrollers,deployments,jobs,configmaps"
CLEANUP_TIMEOUT = 60.0


class Registry:
    """The namespaces this process created, registered *before* the create call so an
    interrupt between the API server accepting it and our bookkeeping cannot orphan it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, Kubectl] = {}

    def add(self, kubectl: Kubectl, name: str) -> None:
        with self._lock:
            self._names[name] = kubectl.with_namespace(None)

    def discard(self, name: str) -> None:
        with self._lock:
            self._names.pop(name, None)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._names)

    def delete_all(self) -> list[str]:
        with self._lock:
            todo = dict(self._names)
            self._names.clear()
        for name, k in sorted(todo.items()):
            namespaces.delete(k, name)
        return sorted(todo)


REGISTRY = Registry()


def create_namespace(kubectl: Kubectl, prefix: str, run_id: str, registry: Registry = REGISTRY,
                     extra: Callable[[str], str] | None = None) -> str:
    """A fresh namespace labelled with the run id, registered for deletion at session end;
    `extra(name)` gives objects it needs before its first pod (the provider's namespace_manifest)."""
    name = namespaces.unique_name(prefix)
    registry.add(kubectl, name)
    return namespaces.create(kubectl, name, namespaces.labels(run_id), extra(name) if extra else "")


def delete_namespace(kubectl: Kubectl, name: str, registry: Registry = REGISTRY) -> None:
    namespaces.delete(kubectl, name)
    registry.discard(name)


def run_selector(run_id: str) -> str:
    return f"{OWNER_LABEL}=kubegate,{RUN_LABEL}={namespaces.labels(run_id)[RUN_LABEL]}"


def delete_run(kubectl: Kubectl, run_id: str, shared_namespace: str | None,
               registry: Registry = REGISTRY) -> list[str]:
    """Everything of `run_id`: registered namespaces, labelled namespaces (never a shared
    one), and labelled objects in the shared namespace. Returns what it asked to delete."""
    k = kubectl.with_namespace(None)
    done = [f"namespace/{n}" for n in registry.delete_all()]
    sel = run_selector(run_id)
    res = k.run_e("delete", "namespaces", "-l", f"{sel},{SHARED_LABEL}!=true", "--wait=false",
                  "--ignore-not-found", timeout=CLEANUP_TIMEOUT)
    done += _deleted(res.stdout)
    if shared_namespace:
        res = k.run_e("delete", SHARED_NS_KINDS, "-n", shared_namespace, "-l", sel, "--wait=false",
                      "--ignore-not-found", timeout=CLEANUP_TIMEOUT)
        done += [f"{shared_namespace}/{d}" for d in _deleted(res.stdout)]
    return done


def _deleted(stdout: str) -> list[str]:
    """`pod "x" deleted` -> `pod/x` (kubectl's delete output, one object a line)."""
    out = []
    for line in stdout.splitlines():
        parts = line.split('"')
        if len(parts) >= 3:
            out.append(f"{parts[0].strip()}/{parts[1]}")
    return out


# --- live runs ---------------------------------------------------------------------------

def runs_dir(cluster_state: Path) -> Path:
    return cluster_state / "runs"


class LiveRun:
    """Holds the run's lock file for the life of the process."""

    def __init__(self, cluster_state: Path, run_id: str) -> None:
        self.path = runs_dir(cluster_state) / f"{namespaces.labels(run_id)[RUN_LABEL]}.lock"
        self._file: TextIO | None = mutex.try_hold(self.path)
        if self._file is None:
            raise OSError(f"run lock {self.path} is held by another process")
        self._file.truncate(0)
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            self.path.unlink(missing_ok=True)
            self._file.close()
            self._file = None


def live_runs(cluster_state: Path) -> set[str]:
    """Run ids (label form) whose lock is held by a running process; stale files are removed."""
    live: set[str] = set()
    d = runs_dir(cluster_state)
    for path in sorted(d.glob("*.lock")) if d.is_dir() else []:
        fh = mutex.try_hold(path)
        if fh is None:
            live.add(path.stem)
            continue
        path.unlink(missing_ok=True)
        fh.close()
    return live


#: `<kind>-<run-id>` files in .cluster/ saying what a run already did once (runs/once.py)
RUN_MARKERS = ("used", "deployed", "app", "upstream", "aborted")


def remove_stale_markers(cluster_state: Path, live: set[str]) -> list[str]:
    """Run markers (RUN_MARKERS) of runs that died before their session end could remove them."""
    gone = []
    for path in sorted(p for kind in RUN_MARKERS for p in cluster_state.glob(f"{kind}-*")):
        run = path.name.split("-", 1)[1]
        if namespaces.labels(run)[RUN_LABEL] not in live:
            path.unlink(missing_ok=True)
            gone.append(run)
    return gone


# --- signals -----------------------------------------------------------------------------

def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install_sigterm() -> Any:
    """CI stops jobs with SIGTERM, whose default kills the process without finalizers;
    as KeyboardInterrupt it takes pytest's Ctrl-C path, which tears fixtures down.
    Returns the previous handler (None when not in the main thread: nothing installed)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_interrupt)


def restore_sigterm(previous: Any) -> None:
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A second Ctrl-C (impatient user, CI escalating) must not cut the cleanup in half;
    the cleanup is bounded by kubectl time-outs instead."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)
