"""Kubernetes and etcd server binaries, compiled from their modules into the cache once per version."""

from __future__ import annotations

from kubegate.rig.bringup import Context
from kubegate.rig.build import gobuild


class BuildBinaries:
    name = "build"

    def run(self, ctx: Context) -> str:
        targets = (gobuild.kubernetes_target(ctx.spec.kube_version), gobuild.etcd_target(ctx.spec.etcd_version),
                   gobuild.critools_target())
        ctx.bins = {t.name: gobuild.build(t) for t in targets}
        return ", ".join(f"{k} {v.name}" for k, v in ctx.bins.items())
