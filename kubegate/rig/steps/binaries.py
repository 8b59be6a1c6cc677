"""Kubernetes and etcd server binaries and the minions' runtime (containerd, runc, CNI plugins,
crictl), compiled from their modules into the cache once per version."""

from __future__ import annotations

from kubegate.rig.bringup import Context
from kubegate.rig.build import gobuild, proc


def _targets(ctx: Context) -> tuple[gobuild.GoTarget, ...]:
    return (gobuild.kubernetes_target(ctx.spec.kube_version), gobuild.etcd_target(ctx.spec.etcd_version),
            gobuild.critools_target(), gobuild.containerd_target(), gobuild.runc_target(),
            gobuild.cni_plugins_target())


class BuildBinaries:
    name = "build"

    def run(self, ctx: Context) -> str:
        targets = _targets(ctx)
        # Side by side: one target's module downloads overlap another's compile; a failed target
        # stops the others, and the image builds, through ctx.stop.
        built = proc.side_by_side(lambda t: gobuild.build(t, ctx.stop), targets, ctx.stop,
                                  name=lambda t: f"Go build of {t.name}")
        ctx.bins = {t.name: out for t, out in zip(targets, built, strict=True)}
        return ", ".join(f"{k} {v.name}" for k, v in ctx.bins.items())

    def status(self, ctx: Context) -> str:
        return "; ".join(gobuild.describe(t) for t in _targets(ctx))
