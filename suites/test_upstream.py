"""Upstream's own specs as a second judge: Services [Conformance], Pods' service variables,
Variable Expansion and the kubectl client specs of Kubernetes v1.34 (`e2e.test`).

One e2e run per pytest run (shared by xdist workers), holding the cluster exclusively: a
disruptive suite cordoning nodes mid-run would fail upstream's specs for kubegate's reasons.
Each spec is its own test with upstream's verdict and failure message; upstream's JUnit and
log are attached. The selection is suites/data/upstream-specs.txt; a spec in it that e2e.test
did not report fails (a renamed spec must not vanish silently).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kubegate.fixtures.cluster import holding

from kubegate import mutex
from kubegate.paths import cluster_dir, reports_dir
from kubegate.providers.base import ClusterProvider
from kubegate.pytest.settings import Settings
from kubegate.report import current
from kubegate.report.progress import Progress
from kubegate.runs.once import once_per_run
from kubegate.upstream.ginkgo import DEFAULT_PROCS, SKIP, SpecResult, exact
from kubegate.upstream.judge import judge, load

pytestmark = [pytest.mark.upstream, pytest.mark.nightly]

SPECS_FILE = Path(__file__).parent / "data" / "upstream-specs.txt"
SPECS = [line.strip() for line in SPECS_FILE.read_text().splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def upstream(cluster: ClusterProvider, settings: Settings) -> tuple[dict[str, SpecResult], Path]:
    out = reports_dir(settings.root) / settings.run_id / "attachments" / "upstream"
    marker = settings.run_marker("upstream")

    def first() -> list[SpecResult]:
        with holding(settings, mutex.CLUSTER_SHARE, exclusive=True):  # upstream's specs need the cluster alone
            results = judge(cluster, settings.root, out, focus=exact(SPECS), skip=SKIP, procs=DEFAULT_PROCS,
                            prog=Progress("kubegate upstream"))
        return results

    results = once_per_run(cluster_dir(settings.root) / mutex.UPSTREAM, marker, first,
                           lambda: load(out / "results.json"))
    passed = sum(r.state == "passed" for r in results)
    current().add_fact("upstream specs", f"{len(results)} run: {passed} passed, "
                       f"{sum(r.state == 'failed' for r in results)} failed, "
                       f"{sum(r.state == 'skipped' for r in results)} skipped; JUnit: {out / 'junit_01.xml'}")
    return {r.name: r for r in results}, out


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.replace(" ", "_")[:150])
def test_upstream_spec(spec: str, upstream: tuple[dict[str, SpecResult], Path], request: pytest.FixtureRequest) -> None:
    results, out = upstream
    result = results.get(spec)
    assert result is not None, (f"e2e.test did not report {spec!r}: renamed or dropped upstream? "
                                f"Regenerate {SPECS_FILE.name} with `kubegate conformance --list`")
    if result.state == "skipped":
        pytest.skip(f"upstream skipped it: {result.message}")
    if result.state == "failed":
        current().attach(request.node.nodeid, out / "junit_01.xml", "upstream JUnit")
        current().attach(request.node.nodeid, out / "e2e.log", "upstream log")
        pytest.fail(f"upstream: {result.message}", pytrace=False)
