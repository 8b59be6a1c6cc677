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


def _paths(item: pytest.Item) -> list[ProbePath]:
    """One path per Service the marker names, in its order: `triage("web", "msg", "db")` for a test
    whose traffic enters through web and depends on msg and db behind it."""
    marker = item.get_closest_marker("triage")
    settings = item.config.stash.get(settings_key, None)
    if marker is None or settings is None or not marker.args:
        return []
    callspec = getattr(item, "callspec", None)
    node = callspec.params.get("node") if callspec else None
    if node:
        return [ProbePath(settings.namespace, str(s), str(node)) for s in marker.args]
    public_ip = settings.provider().public_ip
    return [ProbePath(settings.namespace, str(s), None, public_ip) for s in marker.args]


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
    paths = _paths(item)
    if not paths:
        return
    try:
        # the first path with a broken hop names the cause; all healthy: the first says so
        walks = []
        for path in paths:
            walks.append((path, _walk(item, path)))
            if walks[-1][1].first_failure is not None:
                break
        path, result = next(((p, r) for p, r in walks if r.first_failure is not None), walks[0])
    except Exception as exc:  # never let triage hide the test's own failure
        report.sections.append(("kubegate triage", f"triage could not run: {type(exc).__name__}: {exc}"))
        return
    cause = f"cause: {result.cause()}"
    report.user_properties.append((CAUSE_PROPERTY, result.cause()))
    report.sections.append(("kubegate triage", f"{path.describe()}, {result.seconds}s\n{cause}\n{result.table()}"))
    prepend(report, cause)
