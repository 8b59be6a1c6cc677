"""Bring-up as a list of named steps, as kind's create actions: each step reads what earlier
steps put on the context, adds its own outputs, decides for itself what its cache already
holds, and returns one line for its phase. A tuple in the plan runs its steps side by side.

Reading a bring-up top to bottom is reading `PLAN`; a newcomer looking for "the Ready wait"
or "where images are built" finds the step by its name.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kubegate.report.progress import Progress
from kubegate.rig.spec import ClusterSpec

if TYPE_CHECKING:
    from kubegate.providers.vagrant import VagrantProvider


@dataclass
class Context:
    """What the steps share: inputs (the checkout, the spec, the machines) and outputs."""

    root: Path
    spec: ClusterSpec
    machines: VagrantProvider
    bins: dict[str, Path] = field(default_factory=dict)  # target name -> folder of built binaries
    refs: dict[str, str] = field(default_factory=dict)  # image name -> tag
    digests: dict[str, str] = field(default_factory=dict)  # node -> digest of what it is provisioned with
    started: float = 0.0  # when machines were (re)started, if any was
    touched: bool = False  # whether any machine was created or started
    addons_applied: bool = False  # the add-ons were (re)applied: their rollout is still to wait for

    @property
    def state(self) -> Path:
        return self.root / ".cluster"

    @property
    def logs(self) -> Path:
        return self.state / "logs"


class Step(Protocol):
    name: str

    def run(self, ctx: Context) -> str:
        """Do the step (or find it done) and return the note for its phase line."""
        ...


Plan = Sequence["Step | tuple[Step, ...]"]


def bring_up(ctx: Context, plan: Plan, prog: Progress) -> None:
    """Run `plan` in order; a step that raises stops the bring-up with its own message (side by
    side steps finish first, so no build is left running in the background)."""
    for item in plan:
        group = item if isinstance(item, tuple) else (item,)
        if len(group) == 1:
            _run(group[0], ctx, prog)
            continue
        with ThreadPoolExecutor(max_workers=len(group)) as pool:
            futures = [pool.submit(_run, step, ctx, prog) for step in group]
            for future in futures:
                future.result()


def _run(step: Step, ctx: Context, prog: Progress) -> None:
    with prog.phase(step.name) as ph:
        ph.note = step.run(ctx)
