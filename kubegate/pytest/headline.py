"""Putting one line in front of a failure, where every reader of it looks first: pytest's crash
message feeds the terminal's summary line, junit.xml's `message` and kubegate's headline."""

from __future__ import annotations

import pytest


def prepend(report: pytest.TestReport, line: str) -> None:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        crash.message = f"{line}\n{crash.message}"
    elif isinstance(report.longrepr, str):
        report.longrepr = f"{line}\n{report.longrepr}"
