"""Every image the cluster runs, built locally (no registry is reachable) unless its tag exists."""

from __future__ import annotations

from pathlib import Path

from kubegate.paths import assets
from kubegate.rig.bringup import Context
from kubegate.rig.build import images


class BuildImages:
    name = "images"

    def __init__(self) -> None:
        self._running: dict[str, Path] = {}  # image -> its build log, while it builds

    def run(self, ctx: Context) -> str:
        ctx.refs = images.ensure_images(assets(), ctx.logs, stop=ctx.stop, no_cache=ctx.no_cache,
                                        running=self._running)
        return f"{len(ctx.refs)} images"

    def status(self, ctx: Context) -> str:
        return "building " + (images.describe_running(self._running) or "nothing (checking tags)")
