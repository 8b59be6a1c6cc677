"""pytest hooks for the cluster: options, marker handling, teardown policy. Hooks only.

The logic lives in kubegate.providers and kubegate.settings; fixtures in fixtures/ stay
thin wrappers around them (kubetest's split).
"""

from __future__ import annotations

import pytest

from kubegate.errors import KubegateError
from kubegate.providers import PROVIDERS
from kubegate.settings import DESTROY_POLICIES, Settings, settings_key


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("kubegate", "kubegate cluster")
    g.addoption("--cluster", choices=PROVIDERS, default="vagrant",
                help="cluster provider: vagrant (local cluster, default) or existing (--kubeconfig)")
    g.addoption("--kubeconfig", default=None, help="kubeconfig of an existing cluster (--cluster=existing)")
    g.addoption("--context", default=None, help="kubeconfig context (--cluster=existing)")
    g.addoption("--public-ip", default=None, help="address the db/msg Services expose as externalIPs")
    g.addoption("--destroy", choices=DESTROY_POLICIES, default="never",
                help="destroy the Vagrant cluster after the run: never (default; reuse it next run), "
                     "passing (only when every test passed), always")
    g.addoption("--namespace", default=None, help="namespace for the db/msg services (default: pulp)")


def pytest_configure(config: pytest.Config) -> None:
    try:
        config.stash[settings_key] = Settings.from_config(config)
    except KubegateError as exc:
        raise pytest.UsageError(f"kubegate: {exc}") from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    settings = config.stash[settings_key]
    if settings.cluster == "vagrant":
        return
    skip = pytest.mark.skip(reason=f"needs the Vagrant cluster (node shells); --cluster={settings.cluster}")
    for item in items:
        if item.get_closest_marker("needs_vagrant"):
            item.add_marker(skip)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        return  # only the controller decides about the shared cluster
    settings = config.stash.get(settings_key, None)
    if settings is None or settings.cluster != "vagrant" or not settings.used_marker().is_file():
        return
    settings.used_marker().unlink(missing_ok=True)
    if settings.destroy == "always" or (settings.destroy == "passing" and exitstatus == 0):
        try:
            settings.provider().down()
        except KubegateError as exc:
            print(f"kubegate: destroying the cluster failed: {exc}")
