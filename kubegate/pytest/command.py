"""`kubegate test [PYTEST ARGS]`: the packaged suites from any directory, as pytest runs them.

A thin wrapper: it becomes `python -m pytest --pyargs kubegate.suites --kubegate ...` (exec, so
signals and the exit code are pytest's own: the verdict's exit codes, 6 for incomplete, reach CI
unchanged). kubegate's own options given before `test` (`kubegate --cluster existing test`) are
passed on to pytest, which knows them too.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from kubegate.errors import KubegateError

SUITES = "kubegate.suites"
#: what the checkout's pyproject sets for its own runs: every skip reason in the summary, and a
#: misspelt marker an error rather than an empty selection
DEFAULTS = ("-ra", "--strict-markers")


def command(kubegate_options: list[str], pytest_args: list[str]) -> list[str]:
    named = any(a == SUITES or a.startswith(SUITES + ".") or a.startswith(SUITES + "/") for a in pytest_args)
    return [sys.executable, "-m", "pytest", "--pyargs", *([] if named else [SUITES]), "--kubegate", *DEFAULTS,
            *kubegate_options, *pytest_args]


#: the clients only the suites use: kubegate[suites]
SUITES_EXTRA = ("kombu", "requests")


def run_suites(kubegate_options: list[str], pytest_args: list[str]) -> int:
    missing = [m for m in SUITES_EXTRA if importlib.util.find_spec(m) is None]
    if missing:
        raise KubegateError(f"the suites need {', '.join(missing)} (kubegate's `suites` extra): "
                            "pip install 'kubegate[suites]'")
    argv = command(kubegate_options, pytest_args)
    sys.stdout.flush()
    os.execv(argv[0], argv)
    return 0  # not reached: exec replaced this process
