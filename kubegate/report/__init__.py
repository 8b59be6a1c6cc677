"""Run reports: what ran, what broke, how long bring-up took, with the diagnostics attached.

Library code records through ``current()`` and never needs to know whether pytest, the CLI
or nothing at all is collecting.
"""

from kubegate.report.active import activate, activated, current, deactivate
from kubegate.report.publish import Published, publish
from kubegate.report.recorder import NullRecorder, Recorder
from kubegate.report.run import RUN_DIR_ENV, RUN_ID_ENV, Run

__all__ = [
    "RUN_DIR_ENV",
    "RUN_ID_ENV",
    "NullRecorder",
    "Published",
    "Recorder",
    "Run",
    "activate",
    "activated",
    "current",
    "deactivate",
    "publish",
]
