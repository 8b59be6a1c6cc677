"""Kubernetes and etcd server binaries, compiled from their modules into the cache once per version."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from kubegate.rig.bringup import Context
from kubegate.rig.build import gobuild


class BuildBinaries:
    name = "build"

    def run(self, ctx: Context) -> str:
        targets = (gobuild.kubernetes_target(ctx.spec.kube_version), gobuild.etcd_target(ctx.spec.etcd_version),
                   gobuild.critools_target())
        # Side by side: one target's module downloads overlap another's compile.
        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            ctx.bins = dict(zip((t.name for t in targets), pool.map(gobuild.build, targets), strict=True))
        return ", ".join(f"{k} {v.name}" for k, v in ctx.bins.items())
