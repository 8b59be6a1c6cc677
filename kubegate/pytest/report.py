"""pytest hooks only: they feed the run (kubegate.report.run) and results, and publish.

Register with ``pytest_plugins = ["kubegate.pytest.report"]`` in the root conftest.py or
``-p kubegate.pytest.report``. The process that owns the session (the xdist controller, or
plain pytest) creates the run and publishes it; xdist workers join it through
``workerinput`` and only record.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import kubegate
from kubegate.history import store, window
from kubegate.history.store import history_path
from kubegate.paths import reports_dir
from kubegate.pytest.settings import settings_key
from kubegate.report import fmt
from kubegate.report.active import activate, deactivate
from kubegate.report.prune import prune_runs
from kubegate.report.publish import Published, publish
from kubegate.report.results import TestResults
from kubegate.report.run import RUN_DIR_ENV, RUN_ID_ENV, Run, write_receipt
from kubegate.report.summary import SMOKE_FACT, Asked, smoke_label

RUN_KEY = pytest.StashKey[Run]()
WORKERINPUT_RUN_DIR = "kubegate_run_dir"
PLUGIN_NAME = "kubegate-report-run"
# Modes that configure pytest but run no tests; a report dir for them would be clutter.
NO_RUN_OPTIONS = ("help", "collectonly", "showfixtures", "show_fixtures_per_test", "markers")


def _reports_root(config: pytest.Config) -> Path:
    """--reports-dir, else KUBEGATE_REPORTS_DIR, else ./reports of where pytest was started."""
    value = config.getoption("reports_dir", None)
    if value is None:
        return reports_dir(config.invocation_params.dir)
    return config.invocation_params.dir / Path(value)  # an absolute value wins in the join


@pytest.hookimpl(tryfirst=True)  # before junitxml's pytest_configure reads --junitxml
def pytest_configure(config: pytest.Config) -> None:
    if any(getattr(config.option, name, False) for name in NO_RUN_OPTIONS):
        return
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None and WORKERINPUT_RUN_DIR in workerinput:
        run = Run.join(workerinput[WORKERINPUT_RUN_DIR], origin=str(workerinput.get("workerid", "worker")))
        config.pluginmanager.register(_WorkerHooks(run), PLUGIN_NAME)
    else:
        settings = config.stash.get(settings_key, None)  # absent when this module is used on its own
        run = Run.create(_reports_root(config), run_id=settings.run_id if settings else None)
        if hasattr(config.option, "xmlpath") and not config.option.xmlpath:
            config.option.xmlpath = str(run.dir / "junit.xml")
        run.add_fact("python", sys.version.split()[0])
        run.add_fact("pytest", pytest.__version__)
        run.add_fact("kubegate", kubegate.__version__)
        run.add_fact("host", f"{platform.node()} ({platform.system()} {platform.machine()})")
        run.add_fact("pytest args", " ".join(config.invocation_params.args))
        config.pluginmanager.register(_ControllerHooks(run, config), PLUGIN_NAME)
    config.stash[RUN_KEY] = run


@pytest.hookimpl(optionalhook=True)  # an xdist hook; absent without pytest-xdist
def pytest_configure_node(node: Any) -> None:
    run = node.config.stash.get(RUN_KEY, None)
    if run is not None:
        node.workerinput[WORKERINPUT_RUN_DIR] = str(run.dir)


@pytest.fixture(scope="session")
def kubegate_run(pytestconfig: pytest.Config) -> Run:
    """The run this session records into, for tests and fixtures that attach diagnostics or
    record phases explicitly (``kubegate.report.current()`` returns the same object)."""
    run = pytestconfig.stash.get(RUN_KEY, None)
    if run is None:
        raise pytest.UsageError("kubegate.pytest.report did not create a run for this session")
    return run


class _WorkerHooks:
    """Per-session hooks as an object, not module functions: pytester runs sessions nested
    in one process, and each must feed its own run."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.smoke_collected: int | None = None  # smoke tests collected before -m/-k deselected
        activate(run)

    @pytest.hookimpl(tryfirst=True)  # before the report copies item.user_properties
    def pytest_runtest_makereport(self, item: pytest.Item) -> None:
        # junit.xml carries these as <property name="diagnostics" value="attachments/..."/>
        # (relative to the run dir), which CI test views show next to the failure.
        for attachment in self.run.take_attachments(item.nodeid):
            prop = ("diagnostics", attachment.path)
            if not attachment.missing and prop not in item.user_properties:
                item.user_properties.append(prop)

    @pytest.hookimpl(tryfirst=True)  # before -m and -k deselect: the smoke set this session collected
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        self.smoke_collected = sum(1 for item in items if item.get_closest_marker("smoke"))

    @pytest.hookimpl(trylast=True)  # after -m and -k: what of it was selected. Under xdist every worker
    def pytest_collection_finish(self, session: pytest.Session) -> None:  # collects; they agree.
        collected = self.smoke_collected
        if collected is None:
            return
        selected = sum(1 for item in session.items if item.get_closest_marker("smoke"))
        self.run.add_fact(SMOKE_FACT, {"selected": selected, "collected": collected,
                                       "narrowed": narrowed_args(session.config)})

    def pytest_unconfigure(self) -> None:
        deactivate(self.run)


def earlier_runs(config: pytest.Config, run: Run, results: TestResults, last: int = 19) -> dict[str, Any] | None:
    """The history report.html shows beside this run: failed and flaky tests' earlier outcomes."""
    path = history_path(run.dir.parent, config.getoption("history", None))
    if not path.is_file():
        return None
    named = {t.nodeid for t in results.tests if t.outcome in ("failed", "error") or t.reruns}
    try:
        with store.connect(path) as db:
            return window.for_report(window.load(db, last), named)
    except (sqlite3.Error, OSError):
        return None  # the history is a view beside the verdict, never a reason to lose the report


def keep_history(config: pytest.Config, run: Run, summary: dict[str, Any], exitstatus: int) -> list[str]:
    """Append the run to the history database and prune old run folders; never fails the run
    (a locked or unwritable database is a line in the terminal, not an error)."""
    lines = []
    root = run.dir.parent
    path = history_path(root, config.getoption("history", None))
    try:
        store.record(path, summary, revision=_revision(config.invocation_params.dir),
                     cluster=config.getoption("cluster", None) or "vagrant", interrupted=exitstatus == 2)
        lines.append(f"history: {path} (kubegate history)")
    except (sqlite3.Error, OSError) as exc:
        lines.append(f"history: could not record this run in {path}: {exc}")
    removed = prune_runs(root, int(config.getoption("keep_runs", None) or 0), run.run_id)
    if removed:
        lines.append(f"pruned {len(removed)} run folder{'s' * (len(removed) != 1)} beyond --keep-runs "
                     f"{config.getoption('keep_runs')}: {removed[0]}{' ...' if len(removed) > 1 else ''}")
    return lines


def _revision(where: Path) -> str | None:
    try:
        proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() or None


def narrowed_args(config: pytest.Config) -> list[str]:
    """The session's file or test-id arguments: a smoke set collected from them is not the suite's
    whole one (a directory or a package argument collects all of it)."""
    narrowed = []
    for arg in config.args:
        path = arg.split("::", 1)[0]
        if "::" in arg or (path.endswith(".py") and not config.option.pyargs):
            narrowed.append(arg)
    return narrowed


class _ControllerHooks(_WorkerHooks):
    def __init__(self, run: Run, config: pytest.Config) -> None:
        super().__init__(run)
        self.config = config
        self.results = TestResults()
        self.collected: int | None = None  # tests selected to run (after -m/-k), once known
        self.published: Published | None = None
        self.kept: list[str] = []  # what keeping the history and pruning said, for the terminal
        # Children (xdist workers, a `kubegate` CLI a test starts) join the run through these.
        self.saved_env = {name: os.environ.get(name) for name in (RUN_DIR_ENV, RUN_ID_ENV)}
        os.environ[RUN_DIR_ENV] = str(run.dir)
        os.environ[RUN_ID_ENV] = run.run_id

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.results.add_report(report)

    @pytest.hookimpl(trylast=True)  # after -m and -k deselected
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        super().pytest_collection_finish(session)
        if session.items or self.collected is None:
            self.collected = len(session.items)

    @pytest.hookimpl(optionalhook=True)  # xdist: the controller collects nothing itself
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.collected = max(self.collected or 0, len(ids))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.results.add_collect_report(report)

    @pytest.hookimpl(trylast=True)  # after other plugins' sessionfinish may still record
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        xmlpath = getattr(self.config.option, "xmlpath", None)
        junit = None
        if xmlpath:
            path = Path(xmlpath).absolute()
            junit = path.relative_to(self.run.dir).as_posix() if path.is_relative_to(self.run.dir) else str(path)
        asked = Asked(accepted_skips=self.config.getoption("accept_skip", None) or [],
                      accepted_nodes=self.config.getoption("accept_node", None) or [],
                      gate=bool(self.config.getoption("gate", False)),
                      updated_golden=bool(self.config.getoption("update_golden", False)),
                      fail_on_repair=bool(self.config.getoption("fail_on_repair", False)),
                      flaky_blocks=bool(self.config.getoption("flaky_blocks", False)))
        self.published = publish(self.run, self.results, int(exitstatus), junit, asked, collected=self.collected,
                                 history=earlier_runs(self.config, self.run, self.results))
        # pytest returns session.exitstatus after this hook: an incomplete run must not exit 0.
        session.exitstatus = self.published.summary["exitstatus"]
        write_receipt(self.run.dir)
        self.kept = keep_history(self.config, self.run, self.published.summary, int(exitstatus))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        published = self.published
        if published is None:
            return
        s = published.summary
        c = s["counts"]
        tr = terminalreporter
        tr.write_sep("=", "kubegate report")
        color = {"passed": {"green": True}, "failed": {"red": True}}.get(s["verdict"], {"yellow": True})
        tr.write("verdict: ")
        tr.write(s["verdict"].upper(), bold=True, **color)
        reruns = f"{c['reruns']} reruns" + (f" ({c['flaky']} passed only after rerun)" if c["flaky"] else "")
        partial = smoke_label(s.get("smoke"))
        flaky = f", {c['flaky']} flaky" if c["flaky"] else ""  # passed only after a rerun: never a plain pass
        tr.write_line(
            f"  ({c['passed'] - c['flaky']} passed{flaky}, {c['failed']} failed, {c['error']} errors, "
            f"{c['skipped']} skipped, {reruns})" + (f"  {partial}" if partial else "")
            + f"  exit status {s['exitstatus']}"
        )
        for r in s.get("reruns", []):  # listed first: a test that fails one run in N is news
            if r["outcome"] in ("passed", "xpassed"):
                tr.write_line(f"flaky: {r['nodeid']} passed only after {r['reruns']} rerun{'s' * (r['reruns'] != 1)}"
                              + (" (--flaky-blocks: the run FAILED)" if s.get("flaky_blocks") else ""), yellow=True)
        if s.get("golden_updated"):
            tr.write_line("updated: golden files were rewritten from this run's output, not compared; review "
                          "`git diff suites/golden` and run again without --update-golden", yellow=True, bold=True)
        if s.get("server_version"):
            tr.write_line(f"about: Kubernetes {s['server_version']}")
        for notice in s.get("notices", []):
            tr.write_line(f"notice: {notice}", yellow=True)
        if s.get("aborted"):
            a = s["aborted"]
            tr.write_line(f"error: {a['stage']} failed: {a['cause']}", red=True, bold=True)
            tr.write_line(f"{s['not_run']} selected test{'s' * (s['not_run'] != 1)} did not run"
                          + (f"; log: {a['log']}" if a.get("log") else ""), red=True)
        for group in s["causes"]:
            n = len(group["tests"])
            tr.write_line(f"{n} failure{'s' * (n != 1)}, 1 cause: {group['cause']}", red=True, bold=True)
        for reason in s["incomplete"]:
            tr.write_line(f"incomplete: {reason}", yellow=True, bold=True)
        for r in s.get("repaired", []):
            tr.write_line(f"repaired by {r['phase']}: {r['what']}" + (" (--fail-on-repair: an ERROR)"
                                                                      if s.get("fail_on_repair") else ""),
                          yellow=True)
        for node in s.get("nodes_left_out", []):
            if node["accepted"]:
                tr.write_line(f"node left out, accepted with --accept-node: {node['name']} ({node['reason']})")
        if s.get("nodes_out_of_scope"):
            tr.write_line("out of scope of per-node tests: " + ", ".join(
                f"{n['name']} ({n['reason']})" for n in s["nodes_out_of_scope"]))
        for line in fmt.skip_lines(s["skips"]):
            tr.write_line(line)
        recorded = [p for p in s["phases"] if p["kind"] == "phase"]
        if recorded:
            tr.write_line("phases: " + ", ".join(f"{p['name']} {fmt.duration(p['duration_s'])}" for p in recorded))
        tr.write_line(f"run {s['run_id']} took {fmt.duration(s['duration_s'])}")
        tr.write_line(f"report: {self._show(published.html_path)}")
        for line in self.kept:
            tr.write_line(line)
        if published.latest_error:
            tr.write_line(f"could not update {self.run.dir.parent / 'latest'}: {published.latest_error}", yellow=True)
        else:
            tr.write_line(f"latest: {self._show(self.run.dir.parent / 'latest' / published.html_path.name)}")

    def _show(self, path: Path) -> str:
        try:
            return os.path.relpath(path, self.config.invocation_params.dir)
        except ValueError:
            return str(path)

    def pytest_unconfigure(self) -> None:
        super().pytest_unconfigure()
        for name, value in self.saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
