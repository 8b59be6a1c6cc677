"""The bring-up stops at its first failing step: steps beside it are stopped, not waited for,
and the error names the step that failed, never one that was only stopped."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubegate.errors import KubegateError
from kubegate.report import Run
from kubegate.report.active import activated
from kubegate.report.progress import Progress
from kubegate.rig.bringup import Context, StepFailed, bring_up
from kubegate.rig.build import proc
from kubegate.rig.spec import ClusterSpec


class Compiles:
    name = "build"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp

    def run(self, ctx: Context) -> str:
        proc.run(["sleep", "120"], log=self.tmp / "go.log", stop=ctx.stop)
        return "compiled"

    def status(self, ctx: Context) -> str:
        return "kubernetes: 812 packages compiled"


class Fails:
    name = "images"

    def run(self, ctx: Context) -> str:
        time.sleep(0.3)
        raise proc.BuildFailed("building image client failed at Step 9/18 (RUN npm ci): TypeError: x",
                               Path("/logs/image-client.log"))


class Never:
    name = "render"

    def run(self, ctx: Context) -> str:
        raise AssertionError("a step after the failure ran")


@pytest.fixture(autouse=True)
def own_run(tmp_path: Path) -> Iterator[None]:
    """The phases these bring-ups record (a failed one among them) go to a run of their own,
    not to the report of the session running these tests."""
    with activated(Run.create(tmp_path / "reports")):
        yield


def _ctx(tmp: Path) -> Context:
    return Context(tmp, ClusterSpec(), machines=None)  # type: ignore[arg-type]  # no step here uses it


def test_the_first_failure_stops_its_siblings_and_the_plan(tmp_path: Path) -> None:
    out = io.StringIO()
    prog = Progress("kubegate up", out=out)
    started = time.monotonic()
    with pytest.raises(StepFailed) as info:
        bring_up(_ctx(tmp_path), [(Compiles(tmp_path), Fails()), Never()], prog)
    assert time.monotonic() - started < 15  # the 120 s compile was killed, not waited for
    assert info.value.step == "images"
    assert info.value.log == Path("/logs/image-client.log")
    assert str(info.value).startswith("step 'images' failed: building image client failed at Step 9/18")
    lines = out.getvalue()
    assert "images FAILED" in lines and "build stopped" in lines


def test_a_long_step_says_what_it_is_doing(tmp_path: Path) -> None:
    out = io.StringIO()
    prog = Progress("kubegate up", out=out)

    class Quick(Compiles):
        def run(self, ctx: Context) -> str:
            time.sleep(0.35)
            return "done"

    with prog.ticking("build", lambda: Quick(tmp_path).status(_ctx(tmp_path)), every=0.1):
        Quick(tmp_path).run(_ctx(tmp_path))
    assert "build running for 0s: kubernetes: 812 packages compiled" in out.getvalue()


def test_a_plain_kubegate_error_is_named_after_its_step(tmp_path: Path) -> None:
    class Broken:
        name = "prerequisites"

        def run(self, ctx: Context) -> str:
            raise KubegateError("vagrant not found on PATH; install it with: apt-get install -y vagrant")

    with pytest.raises(StepFailed, match="step 'prerequisites' failed: vagrant not found"):
        bring_up(_ctx(tmp_path), [Broken()], Progress("kubegate up", out=io.StringIO()))
