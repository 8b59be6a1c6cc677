"""kubegate's conformance suites (installed as the package kubegate.suites; `kubegate test` runs them)."""
