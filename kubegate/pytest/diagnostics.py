"""pytest hooks only: collect a diagnostics bundle when a test's setup or call fails.

Register with ``pytest_plugins = ["kubegate.pytest.diagnostics"]``. The bundle is written under
the run's attachment dir for the test and attached file by file, so junit.xml links it
(``<property name="diagnostics" .../>``) and report.html lists it next to the failure.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from kubegate.collect.bundle import BUNDLE_DIR, collect
from kubegate.collect.runner import ProviderRunner, Runner
from kubegate.collect.watch import REGISTRY, Watch
from kubegate.kube.namespaces import OWNER_LABEL, RUN_LABEL, labels
from kubegate.pytest.settings import Settings, settings_key
from kubegate.report import current
from kubegate.report.run import Run

BUDGET_S = float(os.environ.get("KUBEGATE_COLLECT_BUDGET", "30"))
MAX_RUN_NAMESPACES = 3
_runner_key = pytest.StashKey[Runner | None]()
_seen_key = pytest.StashKey[dict[int, list[tuple[Path, str]]]]()


def _wanted(item: pytest.Item, call: pytest.CallInfo[None]) -> bool:
    exc = call.excinfo
    if call.when not in ("setup", "call") or exc is None:
        return False
    if exc.errisinstance((pytest.skip.Exception, pytest.xfail.Exception, KeyboardInterrupt, pytest.exit.Exception)):
        return False
    if type(exc.value).__name__ == "MissingImage":  # a configuration error: the cluster has nothing to show
        return False
    return item.get_closest_marker("xfail") is None


def _runner(config: pytest.Config, settings: Settings) -> Runner | None:
    if _runner_key not in config.stash:
        try:
            config.stash[_runner_key] = ProviderRunner(settings.provider())
        except Exception:  # no usable provider: nothing to collect from, and nothing to raise
            config.stash[_runner_key] = None
    return config.stash[_runner_key]


def _watches(item: pytest.Item, settings: Settings, runner: Runner) -> tuple[list[Watch], str]:
    names = getattr(item, "fixturenames", [])
    watches = REGISTRY.for_test(item.nodeid, names)
    if "services" in names:
        watches.append(Watch(settings.namespace))
    if watches or "cluster" not in names:
        return list(dict.fromkeys(watches)), ""
    # No declaration: the namespaces this run created (they carry its run-id label).
    run_label = labels(settings.run_id)[RUN_LABEL]
    res = runner.kubectl(["get", "namespaces", "-l", f"{OWNER_LABEL}=kubegate,{RUN_LABEL}={run_label}",
                          "-o", "jsonpath={.items[*].metadata.name}"], 15)
    found = res.stdout.split()[:MAX_RUN_NAMESPACES] if res.ok else []
    return [Watch(ns) for ns in found], "no watch declared: this run's namespaces" if found else ""


def _collect(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    rec = current()
    settings = item.config.stash.get(settings_key, None)
    if not isinstance(rec, Run) or settings is None or call.excinfo is None:
        return
    seen = item.config.stash.setdefault(_seen_key, {})
    key = id(call.excinfo.value)
    if key not in seen:  # a module fixture's error repeats for every test in the module
        runner = _runner(item.config, settings)
        if runner is None:
            return
        watches, how = _watches(item, settings, runner)
        if not watches:
            return
        root = rec.attachment_dir(item.nodeid) / BUNDLE_DIR
        title = f"{item.nodeid} ({call.when} failed)" + (f"; {how}" if how else "")
        bundle = collect(runner, watches, root, budget_s=BUDGET_S, services_namespace=settings.namespace,
                         title=title)
        seen[key] = bundle.files()
        item.add_report_section(call.when, "kubegate diagnostics", f"bundle: {root}")
    for path, label in seen[key]:
        rec.attach(item.nodeid, path, label)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    # Before the report exists: the report plugin moves attachments onto it (junit.xml)
    # in its own makereport, which runs after this wrapper's first half.
    if _wanted(item, call):
        try:
            _collect(item, call)
        except Exception as exc:  # a collection problem must never mask the test's failure
            item.add_report_section(call.when, "kubegate diagnostics", f"collection failed: {exc!r}")
    yield
