"""The `pytest11` entry point: inert unless the session asks for kubegate. Hooks only.

Installing kubegate must change nothing in other pytest sessions of the environment: without
`--kubegate`, `--cluster` (or another kubegate option) or the `kubegate = true` ini key this
registers options and does nothing else: no fixtures, markers, reports or exit codes. Asked
for, it loads the plugins below, in this order (the order the checkout's conftest used).
"""

from __future__ import annotations

import pytest

from kubegate.pytest import options

PLUGINS = (
    "kubegate.pytest.plugin",
    "kubegate.pytest.report",
    "kubegate.fixtures.cluster",
    "kubegate.fixtures.clients",
    "kubegate.fixtures.services",
    "kubegate.fixtures.golden",
    "kubegate.fixtures.diagnose",
    "kubegate.fixtures.namespaces",
    "kubegate.pytest.diagnostics",
    "kubegate.pytest.triage",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True)  # before junitxml's pytest_configure: the report sets --junitxml
def pytest_configure(config: pytest.Config) -> None:
    if not options.active(config):
        return
    for name in PLUGINS:
        config.pluginmanager.import_plugin(name)
