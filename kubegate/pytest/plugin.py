"""pytest hooks for the cluster: options, marker handling, cleanup and teardown policy. Hooks only.

The logic lives in kubegate.providers, kubegate.pytest.settings and kubegate.runs.cleanup; fixtures in
fixtures/ stay thin wrappers around them (kubetest's split).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from kubegate.errors import KubegateError
from kubegate.kube.kubectl import FORBIDDEN
from kubegate.paths import checkout, cluster_dir
from kubegate.providers.existing import IMAGE_NAMES, MissingImage, image_env
from kubegate.pytest.headline import prepend
from kubegate.pytest.options import MARKERS
from kubegate.pytest.settings import Settings, settings_key
from kubegate.report import current
from kubegate.report.summary import NODES_LEFT_OUT_FACT, NODES_OUT_OF_SCOPE_FACT
from kubegate.runs import cleanup

_live_key = pytest.StashKey[cleanup.LiveRun | None]()
nodes_key = pytest.StashKey[list[str]]()
_nodes_problem_key = pytest.StashKey[str]()
_sigterm_key = pytest.StashKey[Any]()
# Modes that configure pytest but run no tests: no run lock, no signal handler.
_NO_RUN_OPTIONS = ("help", "collectonly", "showfixtures", "show_fixtures_per_test", "markers")


def pytest_configure(config: pytest.Config) -> None:
    try:
        settings = Settings.from_config(config)
    except KubegateError as exc:
        raise pytest.UsageError(f"kubegate: {exc}") from None
    config.stash[settings_key] = settings
    known = {str(m).split(":")[0].split("(")[0].strip() for m in config.getini("markers")}
    for line in MARKERS:  # a project's own declaration of the same name wins
        if line.split(":")[0].split("(")[0] not in known:
            config.addinivalue_line("markers", line)
    if any(getattr(config.option, name, False) for name in _NO_RUN_OPTIONS):
        return
    config.stash[_sigterm_key] = cleanup.install_sigterm()
    live = None
    if not hasattr(config, "workerinput"):  # the controller speaks for the whole run
        try:
            live = cleanup.LiveRun(cluster_dir(settings.root), settings.run_id)
        except OSError:
            live = None  # a read-only checkout: sweep falls back to --older-than
    config.stash[_live_key] = live


def pytest_unconfigure(config: pytest.Config) -> None:
    cleanup.restore_sigterm(config.stash.get(_sigterm_key, None))
    live = config.stash.get(_live_key, None)
    if live is not None:
        live.release()


def collected_nodes(config: pytest.Config) -> list[str]:
    """The cluster's schedulable Ready nodes as collection saw them (once per process: every
    xdist worker must collect the same ids, and asks the same API)."""
    if nodes_key not in config.stash:
        try:
            scope = config.stash[settings_key].provider().node_scope()
            nodes = list(scope.nodes)
            # A worker left out is named in the verdict (incomplete unless --accept-node), never dropped silently.
            current().add_fact(NODES_LEFT_OUT_FACT, [{"name": n, "reason": r} for n, r in scope.left_out])
            current().add_fact(NODES_OUT_OF_SCOPE_FACT, [{"name": n, "reason": r} for n, r in scope.out_of_scope])
            problem = "" if nodes else ("kubegate: the cluster has no schedulable Ready worker node, so no per-node "
                                        "test can run; see `kubectl get nodes` (Ready, not cordoned, no NoSchedule "
                                        "taint)")
        except KubegateError as exc:
            nodes, problem = [], f"kubegate: per-node tests: {exc}"
        config.stash[nodes_key] = nodes
        config.stash[_nodes_problem_key] = problem  # asked once: an unreachable API costs one time-out
    if config.stash[_nodes_problem_key]:
        raise pytest.Collector.CollectError(config.stash[_nodes_problem_key])
    return config.stash[nodes_key]


def suites_dir() -> Path:
    """kubegate.suites, wherever it is installed (the checkout's suites/ in an editable install)."""
    spec = importlib.util.find_spec("kubegate.suites")
    if spec is None or spec.origin is None:
        raise pytest.UsageError("kubegate: the package kubegate.suites is missing; reinstall kubegate")
    return Path(spec.origin).resolve().parent


def _in_harness_tests(path: Path) -> bool:
    root = checkout()
    return root is not None and path.resolve().is_relative_to(root / "tests")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A `node` argument means "once per schedulable node of the cluster under test", in kubegate's
    suites and in users' tests alike; kubegate's own harness tests (a checkout's tests/) keep theirs."""
    if "node" not in metafunc.fixturenames:
        return
    explicit = any("node" in str(m.args[0] if m.args else "") for m in metafunc.definition.iter_markers("parametrize"))
    if explicit or _in_harness_tests(Path(str(metafunc.definition.path))):
        return
    nodes = collected_nodes(metafunc.config)
    metafunc.parametrize("node", nodes, ids=nodes)


@pytest.hookimpl(tryfirst=True)  # before -m deselects: `-m nightly` must see the marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    suites = suites_dir()
    nightly = pytest.mark.nightly
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(suites) and not item.get_closest_marker("nightly"):
            item.add_marker(nightly)
    settings = config.stash[settings_key]
    if settings.cluster == "vagrant":
        return
    skip = pytest.mark.skip(reason=f"needs the Vagrant cluster (node shells); --cluster={settings.cluster}")
    for item in items:
        if item.get_closest_marker("needs_vagrant"):
            item.add_marker(skip)


@pytest.hookimpl(trylast=True)  # after -m and -k deselected: only what will run counts
def pytest_collection_finish(session: pytest.Session) -> None:
    """On an existing cluster every suite needs image references; missing ones stop the run
    before anything is created, in one line naming the variables, not as 20 errors."""
    settings = session.config.stash.get(settings_key, None)
    suites = suites_dir()
    if settings is None or settings.cluster == "vagrant" or session.config.option.collectonly:
        return
    if not any(Path(str(i.path)).resolve().is_relative_to(suites) for i in session.items):
        return
    refs = settings.provider().images()
    missing = [name for name in IMAGE_NAMES if not refs.get(name)]
    if missing:
        raise pytest.UsageError(
            f"kubegate: --cluster={settings.cluster} has no image reference for {', '.join(missing)}: pass "
            "--image-registry REGISTRY[/PREFIX] after `kubegate images push REGISTRY[/PREFIX]`, or set "
            + " and ".join(image_env(m) for m in missing) + " to images your nodes can pull or already have")


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    FORBIDDEN.clear()  # a refusal counts for the test it happened in


@pytest.hookimpl(hookwrapper=True, tryfirst=True)  # outermost: before diagnostics run kubectl themselves
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """A missing image reference is a configuration error: one line naming the variable, no traceback.
    A failure after kubectl was refused a permission says so first: that is the cause to fix."""
    refused = list(FORBIDDEN)  # the test's own refusals, not those of the diagnostics collected next
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if call.excinfo is not None and call.excinfo.errisinstance(MissingImage) and report.failed:
        report.longrepr = f"kubegate: {call.excinfo.value}"
    elif report.failed and refused:
        prepend(report, f"forbidden: {refused[0]}")


@pytest.hookimpl(trylast=True)  # after pytest tore the fixtures down: their finalizers go first
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    settings = config.stash.get(settings_key, None)
    if settings is None:
        return
    worker = hasattr(config, "workerinput")
    try:
        with cleanup.shielded():
            if worker:
                cleanup.REGISTRY.delete_all()  # this worker's; the controller deletes by label
            elif settings.used_marker().is_file():
                deleted = cleanup.delete_run(settings.provider().kubectl(), settings.run_id, settings.namespace)
                if deleted and exitstatus == pytest.ExitCode.INTERRUPTED:
                    print(f"\nkubegate: interrupted; deleted {len(deleted)} object(s) of run {settings.run_id}")
    except KubegateError as exc:
        print(f"kubegate: cleanup of run {settings.run_id} failed ({exc}); run `kubegate sweep`")
    if not worker:
        settings.run_marker("aborted").unlink(missing_ok=True)  # the report has it (kubegate.pytest.abort)
    if worker or not settings.used_marker().is_file():
        return  # only the controller decides about the shared cluster
    if settings.deployed_marker().is_file():
        _drop_marker_databases(settings)
    for kind in cleanup.RUN_MARKERS:
        settings.run_marker(kind).unlink(missing_ok=True)
    if settings.cluster != "vagrant":
        return
    if settings.destroy == "always" or (settings.destroy == "passing" and exitstatus == 0):
        try:
            settings.provider().down(purge=settings.destroy == "always")
        except KubegateError as exc:
            print(f"kubegate: destroying the cluster failed: {exc}")


def _drop_marker_databases(settings: Settings) -> None:
    """The databases this run wrote for its `show dbs` checks (kubegate.services.markers)."""
    from kubegate.services import markers
    provider = settings.provider()
    try:
        with cleanup.shielded():
            host, port = markers.public_db(provider, settings.namespace)
            markers.drop_run_markers(host, port, settings.run_id)
    except KubegateError as exc:
        print(f"kubegate: {exc}; `kubegate sweep` drops them later")
