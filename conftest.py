"""Root conftest: registers kubegate's plugins and fixtures; holds no logic of its own."""

pytest_plugins = [
    "kubegate.pytest.plugin",
    "kubegate.pytest.report",
    "fixtures.cluster",
    "fixtures.clients",
    "fixtures.services",
    "fixtures.golden",
    "fixtures.diagnose",
    "kubegate.pytest.diagnostics",
    "kubegate.pytest.triage",
]
