"""Every image the cluster runs, built locally (no registry is reachable) unless its tag exists."""

from __future__ import annotations

from kubegate.rig.bringup import Context
from kubegate.rig.build import images


class BuildImages:
    name = "images"

    def run(self, ctx: Context) -> str:
        ctx.refs = images.ensure_images(ctx.root, ctx.logs)
        return f"{len(ctx.refs)} images"
