"""One error for the whole run when a set-up every test needs has failed.

A session fixture that raises makes pytest re-raise the same error in every test that uses
it: a failed bring-up became 185 errors and 1,150 lines of terminal, each repeating the
message. Nothing is learned from the 184 repetitions, and the cause scrolls away. So a
shared set-up that fails stops the session (pytest.exit): the run's report records the stage,
the cause and the log (the `aborted` fact), counts the tests that did not run, and the verdict
is ERROR. xdist workers that come later read the same record and stop the same way, without
trying the bring-up again.

Under xdist a worker cannot pytest.exit (the controller treats it as a crash and raises an
internal error), so a worker fails the one test it is setting up and asks the session to
stop (`shouldstop`, which xdist carries to the controller): one error per worker at most.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import pytest

from kubegate.collect.runner import ProviderRunner
from kubegate.errors import KubegateError
from kubegate.providers.base import ClusterProvider
from kubegate.report import current
from kubegate.report.summary import ABORTED_FACT
from kubegate.triage import ProbePath, triage


def abort_run(request: pytest.FixtureRequest, marker: Path, stage: str, exc: KubegateError,
              cause: str = "") -> NoReturn:
    """Record why the run cannot go on, leave it in `marker` for this run's other processes,
    and stop the session. `cause`: what triage found on the set-up's paths, if it ran."""
    log = getattr(exc, "log", None)
    record = {"stage": stage, "cause": str(exc) + (f"; triage: {cause}" if cause else ""),
              "log": str(log) if log else ""}
    current().add_fact(ABORTED_FACT, record)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(record) + "\n")
    _stop(request, record)


def abort_if_aborted(request: pytest.FixtureRequest, marker: Path) -> None:
    """Stop this process too when another process of the run already aborted it."""
    try:
        record = json.loads(marker.read_text())
    except (OSError, ValueError):
        return
    _stop(request, record)


def _stop(request: pytest.FixtureRequest, record: dict[str, str]) -> NoReturn:
    message = f"kubegate: {record['stage']} failed, so no test ran: {record['cause']}"
    if hasattr(request.config, "workerinput"):
        request.session.shouldstop = message
        pytest.fail(message, pytrace=False)
    pytest.exit(message, returncode=pytest.ExitCode.TESTS_FAILED)


def set_up_cause(provider: ClusterProvider, paths: list[ProbePath]) -> str:
    """One walk per path a failed shared set-up was building (run once, here, not per test): the
    first broken hop found, or '' when every path looks healthy or triage itself cannot run."""
    for path in paths:
        try:
            result = triage(ProviderRunner(provider), path)
        except Exception:  # triage must never replace the set-up's own error
            continue
        if result.first_failure is not None:
            return f"{path.describe()}: {result.cause()}"
    return ""
