"""Cleanup and sweep without a cluster: the live-run lock, what sweep selects (by label, never
shared namespaces, never live runs), stuck-namespace reasons, and SIGTERM taking pytest's
Ctrl-C path so finalizers run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from kubegate.errors import KubegateError
from kubegate.runs import cleanup
from kubegate.runs.sweep import content_kinds, parse_duration, select

NOW = 1_800_000_000.0


def _ns(name: str, run: str | None, age_s: float, shared: bool = False, kind: str = "Namespace",
        namespace: str | None = None) -> dict[str, Any]:
    labels = {"kubegate.io/owner": "kubegate"}
    if run:
        labels["kubegate.io/run-id"] = run
    if shared:
        labels["kubegate.io/shared"] = "true"
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - age_s))
    meta: dict[str, Any] = {"name": name, "labels": labels, "creationTimestamp": ts}
    if namespace:
        meta["namespace"] = namespace
    return {"kind": kind, "metadata": meta}


def test_select_skips_shared_live_and_young() -> None:
    items = [_ns("pulp", None, 9000, shared=True), _ns("kg-old", "r1", 7200), _ns("kg-live", "r2", 7200),
             _ns("kg-young", "r3", 60), _ns("client-x", "r1", 7200, kind="Pod", namespace="pulp")]
    found, kept = select(items, keep_runs={"r2"}, older_than=600, now=NOW)
    assert [lo.ref() for lo in found] == ["namespace/kg-old", "pulp/pod/client-x"]
    assert any("kg-live" in k and "still running" in k for k in kept)
    assert any("kg-young" in k and "younger" in k for k in kept)
    only, _ = select(items, keep_runs=set(), older_than=None, now=NOW, only_runs={"r3"})
    assert [lo.name for lo in only] == ["kg-young"]


def test_parse_duration() -> None:
    assert parse_duration("90s") == 90 and parse_duration("30m") == 1800 and parse_duration("2d") == 172800
    with pytest.raises(KubegateError, match="30m, 12h or 2d"):
        parse_duration("soon")


def test_content_kinds_from_namespace_conditions() -> None:
    conds = [{"type": "NamespaceContentRemaining", "status": "True",
              "message": "Some resources are remaining: pods. has 2 resource instances, "
                         "widgets.example.com has 1 resource instances"},
             {"type": "NamespaceFinalizersRemaining", "status": "True", "message": "example.com/hold in 1"}]
    assert content_kinds(conds) == ["pods", "widgets.example.com"]


def test_live_run_lock_is_seen_until_released(tmp_path: Path) -> None:
    live = cleanup.LiveRun(tmp_path, "20260101-000000-abcd")
    assert cleanup.live_runs(tmp_path) == {"20260101-000000-abcd"}
    live.release()
    assert cleanup.live_runs(tmp_path) == set()


def test_lock_of_a_killed_run_is_not_live(tmp_path: Path) -> None:
    code = ("import sys, time; from pathlib import Path; from kubegate.runs.cleanup import LiveRun; "
            f"run = LiveRun(Path({str(tmp_path)!r}), 'dead-run'); print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert cleanup.live_runs(tmp_path) == {"dead-run"}
    finally:
        proc.kill()
        proc.wait()
    assert cleanup.live_runs(tmp_path) == set()
    assert not list((tmp_path / "runs").glob("*.lock")), "a dead run's lock file is removed"


class _FakeKubectl:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def with_namespace(self, ns: str | None) -> _FakeKubectl:
        return self

    def apply(self, manifest: str) -> None:
        self.calls.append(("apply", manifest))

    def run_e(self, *args: str, **kw: Any) -> Any:
        self.calls.append(args)
        out = 'namespace "kg-a" deleted\n' if args[:2] == ("delete", "namespaces") else 'pod "c-1" deleted\n'
        return type("R", (), {"returncode": 0, "stdout": out, "stderr": ""})()


def test_delete_run_by_registry_and_label_never_shared() -> None:
    k = _FakeKubectl()
    reg = cleanup.Registry()
    name = cleanup.create_namespace(k, "kg-x", "run 1", registry=reg)  # type: ignore[arg-type]
    labels = json.loads(k.calls[0][1])["metadata"]["labels"]
    assert labels["kubegate.io/run-id"] == "run-1", "the namespace carries the run id"
    assert reg.names() == [name]
    done = cleanup.delete_run(k, "run 1", "pulp", registry=reg)  # type: ignore[arg-type]
    assert reg.names() == []
    ns_delete = next(c for c in k.calls if c[:2] == ("delete", "namespaces"))
    assert "kubegate.io/owner=kubegate,kubegate.io/run-id=run-1,kubegate.io/shared!=true" in ns_delete
    shared = next(c for c in k.calls if c[:2] == ("delete", cleanup.SHARED_NS_KINDS))
    assert shared[2:4] == ("-n", "pulp") and "kubegate.io/owner=kubegate,kubegate.io/run-id=run-1" in shared
    assert f"namespace/{name}" in done and "namespace/kg-a" in done and "pulp/pod/c-1" in done


def test_sigterm_runs_finalizers(tmp_path: Path) -> None:
    """SIGTERM (CI cancelling a job) must take the Ctrl-C path: fixture finalizers run."""
    (tmp_path / "conftest.py").write_text(textwrap.dedent("""
        import pytest
        from kubegate.runs import cleanup

        @pytest.fixture
        def resource(tmp_path_factory):
            yield
            open(DONE, "w").write("finalized")

        def pytest_configure(config):
            config._prev = cleanup.install_sigterm()
    """).replace("DONE", repr(str(tmp_path / "done"))))
    (tmp_path / "test_slow.py").write_text("import time\ndef test_slow(resource):\n    print('started', flush=True)\n"
                                           "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-s", "-p", "no:cacheprovider", "-p", "no:xdist",
                             "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "started" in line:
            break
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=30)[0]
    assert (tmp_path / "done").read_text() == "finalized", out
    assert proc.returncode == 2, out  # pytest's "interrupted"
