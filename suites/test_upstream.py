"""Upstream's own specs as a second judge: Services [Conformance], Pods' service variables,
Variable Expansion and the kubectl client specs of the cluster's Kubernetes minor (`e2e.test`).

One e2e run per pytest run (shared by xdist workers), holding the cluster exclusively: a
disruptive suite cordoning nodes mid-run would fail upstream's specs for kubegate's reasons.
Each spec is its own test with upstream's verdict and failure message; upstream's JUnit and
log are attached. The selection is suites/data/upstream-specs-<minor>.txt, kept per minor: a spec
in it that e2e.test did not report fails, and a spec upstream's selection holds that the list
lacks fails the list's own test (a renamed or added spec must not vanish silently).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kubegate.fixtures.cluster import holding

from kubegate import mutex
from kubegate.paths import cluster_dir
from kubegate.providers.base import ClusterProvider
from kubegate.pytest.settings import Settings
from kubegate.report import current
from kubegate.report.progress import Progress
from kubegate.report.run import ATTACHMENTS_DIR, Run
from kubegate.rig import versions
from kubegate.rig.build import gobuild
from kubegate.runs.once import once_per_run
from kubegate.upstream.ginkgo import DEFAULT_PROCS, FOCUS, SKIP, TMP_LISTING, SpecResult, dry_run, exact
from kubegate.upstream.judge import judge, load

pytestmark = [pytest.mark.upstream, pytest.mark.nightly]

MINOR = versions.selected().minor  # settled at configure: asked, else the running cluster's, else the default
SPECS_FILE = Path(__file__).parent / "data" / f"upstream-specs-{MINOR}.txt"
SPECS = ([line.strip() for line in SPECS_FILE.read_text().splitlines() if line.strip() and not line.startswith("#")]
         if SPECS_FILE.is_file() else [])
REGENERATE = f"kubegate --kubernetes-version {MINOR} conformance --list > suites/data/{SPECS_FILE.name}"


def test_spec_list_is_upstreams_selection_for_this_minor() -> None:
    """The kept list against what this minor's e2e.test selects (ginkgo's dry run, no cluster)."""
    assert SPECS, f"no spec list for Kubernetes {MINOR}: generate it with `{REGENERATE}` and review it"
    selected = dry_run(gobuild.build(gobuild.e2e_target()), focus="|".join(FOCUS), skip=SKIP)
    added, gone = sorted(set(selected) - set(SPECS)), sorted(set(SPECS) - set(selected))
    assert not added and not gone, (f"upstream's {MINOR} selection differs from {SPECS_FILE.name}: "
                                    f"added upstream {added}; gone upstream {gone}; regenerate: `{REGENERATE}`")


@pytest.fixture(scope="module")
def upstream(cluster: ClusterProvider, settings: Settings, kubegate_run: Run) -> tuple[dict[str, SpecResult], Path]:
    out = kubegate_run.dir / ATTACHMENTS_DIR / "upstream"  # the run's own folder, wherever --reports-dir put it
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


@pytest.mark.parametrize("spec", SPECS or [pytest.param("", marks=pytest.mark.skip(
    reason=f"no spec list for Kubernetes {MINOR} (see test_spec_list_is_upstreams_selection_for_this_minor)"))],
    ids=lambda s: s.replace(" ", "_")[:150] or "no-list")
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


def test_upstreams_temporary_files_go_to_the_runs_own_directory(upstream: tuple[dict[str, SpecResult], Path]) -> None:
    """kubectl's specs leave a directory per kuberc and per proxy socket (15 a run on 1.37), which
    piled up in the host's /tmp run after run; e2e.test now gets a TMPDIR of its own, removed after
    it. Its listing is empty if e2e.test wrote to the host's /tmp instead."""
    _, out = upstream
    left = (out / TMP_LISTING).read_text().split()
    assert left, f"e2e.test wrote nothing to the TMPDIR it was given ({out / TMP_LISTING}): did it get it?"
