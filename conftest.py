"""Root conftest: registers kubegate's plugins and fixtures; holds no logic of its own."""

pytest_plugins = [
    "kubegate.plugin",
    "kubegate.report.plugin",
    "fixtures.cluster",
    "fixtures.services",
    "fixtures.golden",
    "fixtures.clients",
    "fixtures.diagnose",
    "kubegate.collect.plugin",
]
