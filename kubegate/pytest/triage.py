"""pytest hooks: a failing connectivity test gets its path triaged, and the cause goes on top.

A test declares the Service its traffic went to with `@pytest.mark.triage("db")` (module-wide
in the connectivity suites); the origin is its `node` parameter, or the host through the
publicIP when it has none. The cause line is put in front of pytest's own failure message
(terminal summary, junit.xml's message, report.html and summary.json read it from there),
and the hop table is added as a report section. Triage never replaces the failure: it only
adds to it, within its budget, and a triage that cannot run says so.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from kubegate.collect.runner import ProviderRunner
from kubegate.pytest.headline import prepend
from kubegate.pytest.settings import settings_key
from kubegate.triage import ProbePath, Triage, triage

_cache_key = pytest.StashKey[dict[ProbePath, Triage]]()
CAUSE_PROPERTY = "cause"


def _path(item: pytest.Item) -> ProbePath | None:
    marker = item.get_closest_marker("triage")
    settings = item.config.stash.get(settings_key, None)
    if marker is None or settings is None or not marker.args:
        return None
    callspec = getattr(item, "callspec", None)
    node = callspec.params.get("node") if callspec else None
    if node:
        return ProbePath(settings.namespace, str(marker.args[0]), str(node))
    return ProbePath(settings.namespace, str(marker.args[0]), None, settings.provider().public_ip)


def _walk(item: pytest.Item, path: ProbePath) -> Triage:
    """Once per path per process: failures on the same path share one walk (and one cause)."""
    cache = item.config.stash.setdefault(_cache_key, {})
    if path not in cache:
        settings = item.config.stash[settings_key]
        cache[path] = triage(ProviderRunner(settings.provider()), path)
    return cache[path]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if call.when != "call" or not report.failed:
        return
    path = _path(item)
    if path is None:
        return
    try:
        result = _walk(item, path)
    except Exception as exc:  # never let triage hide the test's own failure
        report.sections.append(("kubegate triage", f"triage could not run: {type(exc).__name__}: {exc}"))
        return
    cause = f"cause: {result.cause()}"
    report.user_properties.append((CAUSE_PROPERTY, result.cause()))
    report.sections.append(("kubegate triage", f"{path.describe()}, {result.seconds}s\n{cause}\n{result.table()}"))
    prepend(report, cause)
