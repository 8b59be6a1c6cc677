"""Bring-up as a list of named steps, as kind's create actions: each step reads what earlier
steps put on the context, adds its own outputs, decides for itself what its cache already
holds, and returns one line for its phase. A tuple in the plan runs its steps side by side.

Reading a bring-up top to bottom is reading `PLAN`; a newcomer looking for "the Ready wait"
or "where images are built" finds the step by its name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kubegate.errors import KubegateError
from kubegate.kube.kubectl import Kubectl
from kubegate.report.progress import Progress
from kubegate.rig.build.proc import Cancelled, Stop, side_by_side
from kubegate.rig.spec import ClusterSpec


class Machines(Protocol):
    """What the steps ask of the machines' backend, as kind's steps know only its provider
    interface: the Vagrant provider implements it, and no step imports a provider."""

    @property
    def kubeconfig(self) -> Path: ...

    def kubectl(self, namespace: str | None = None) -> Kubectl: ...

    def node_shell(self, node: str, command: str, timeout: float = 60) -> str: ...

    def containerd_volumes(self) -> dict[str, str]: ...

    def require_disk_room(self) -> None: ...

    def ensure_containerd_volumes(self) -> None: ...

    def remove_strays(self) -> None: ...

    def refuse_other_checkouts(self) -> None: ...

    def snapshot_host_sysctls(self) -> None: ...

    def machines_up(self, node_image: str, digests: dict[str, str]) -> tuple[str, bool]: ...

    def provision_changed(self, digests: dict[str, str], node_image: str) -> str: ...


@dataclass
class Context:
    """What the steps share: inputs (the checkout, the spec, the machines) and outputs."""

    root: Path
    spec: ClusterSpec
    machines: Machines
    bins: dict[str, Path] = field(default_factory=dict)  # target name -> folder of built binaries
    refs: dict[str, str] = field(default_factory=dict)  # image name -> tag
    digests: dict[str, str] = field(default_factory=dict)  # node -> digest of what it is provisioned with
    started: float = 0.0  # when machines were (re)started, if any was
    touched: bool = False  # whether any machine was created or started
    addons_applied: bool = False  # the add-ons were (re)applied: their rollout is still to wait for
    stop: Stop = field(default_factory=Stop)  # set by the first failure: side-by-side builds stop at once
    no_cache: bool = False  # rebuild every image without Docker's cache (the cold canary)
    #: step name -> what it found broken and fixed (units restarted, ...): facts of the run, not
    #: only progress lines, so a gate can refuse a cluster that needed repair
    repaired: dict[str, list[str]] = field(default_factory=dict)

    @property
    def state(self) -> Path:
        return self.root / ".cluster"

    @property
    def logs(self) -> Path:
        return self.state / "logs"


class Step(Protocol):
    name: str

    def run(self, ctx: Context) -> str:
        """Do the step (or find it done) and return the note for its phase line. A long step may
        also have `status(ctx) -> str`: what it is doing now, printed every 30 s while it runs."""
        ...


Plan = Sequence["Step | tuple[Step, ...]"]


class StepFailed(KubegateError):
    """A step's failure, named after the step: the one error a bring-up ends with."""

    def __init__(self, step: str, cause: Exception) -> None:
        super().__init__(f"step {step!r} failed: {cause}")
        self.step, self.cause = step, cause
        self.log: Path | None = getattr(cause, "log", None)


def bring_up(ctx: Context, plan: Plan, prog: Progress) -> None:
    """Run `plan` in order. The first step that fails stops the bring-up at once: steps beside
    it are stopped through `ctx.stop` (their builds killed, not waited for), and the failure is
    raised as StepFailed; a step that was only stopped is never the reported cause."""
    for item in plan:
        group = item if isinstance(item, tuple) else (item,)
        if len(group) == 1:
            _run(group[0], ctx, prog)
        else:
            side_by_side(lambda step: _run(step, ctx, prog), group, ctx.stop, name=lambda step: f"step {step.name}")


def _run(step: Step, ctx: Context, prog: Progress) -> None:
    status = getattr(step, "status", None)
    with prog.phase(step.name) as ph, prog.ticking(step.name, (lambda: status(ctx)) if status else None):
        try:
            ph.note = step.run(ctx)
            ph.repaired = list(ctx.repaired.get(step.name, []))
        except Cancelled as exc:
            ph.stopped, ph.note = True, str(exc)
            raise
        except StepFailed:
            raise
        except KubegateError as exc:
            raise StepFailed(step.name, exc) from exc
