"""The dist nodes mount read-only: server binaries (hard links into the build cache) and the
minions' image tars, each re-exported only when its image changed."""

from __future__ import annotations

import os

from kubegate.paths import dist_dir
from kubegate.rig.bringup import Context
from kubegate.rig.build import gobuild, images

#: binary -> the build (ctx.bins key) it comes from
DIST_BINARIES = {"etcd": "etcd", **dict.fromkeys(gobuild.KUBE_BINARIES, "kubernetes"), "crictl": "cri-tools",
                 **dict.fromkeys(("containerd", "containerd-shim-runc-v2", "ctr"), "containerd"), "runc": "runc",
                 **dict.fromkeys(gobuild.CNI_PLUGINS, "cni-plugins")}


class AssembleDist:
    name = "dist"

    def run(self, ctx: Context) -> str:
        images.export_for_minions(ctx.refs)
        out = dist_dir() / "bin"
        out.mkdir(parents=True, exist_ok=True)
        for binary, build in DIST_BINARIES.items():
            src = ctx.bins[build] / binary
            dst = out / binary
            if dst.is_file() and dst.stat().st_ino == src.stat().st_ino:
                continue
            tmp = dst.with_suffix(".tmp")
            tmp.unlink(missing_ok=True)
            os.link(src, tmp)
            tmp.replace(dst)
        return ", ".join(sorted(ctx.refs.values()))
