"""Upstream's own conformance specs (`e2e.test`) as a second judge beside kubegate's suites."""
