"""The upstream judge end to end: build, put its images on the nodes, run, keep the evidence.

Used by `kubegate conformance` and by suites/test_upstream.py. On the local rig the images
are imported into every minion (node shells); on a cluster of yours the nodes pull upstream's
images themselves, as Sonobuoy's runs do.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from kubegate.paths import assets, cluster_dir
from kubegate.providers.base import ClusterProvider
from kubegate.report.progress import Progress
from kubegate.rig.build import gobuild
from kubegate.upstream import images
from kubegate.upstream.ginkgo import SpecResult, run


def prepare(provider: ClusterProvider, root: Path, prog: Progress) -> Path:
    """The judge's binaries (built or reused) and, on the local rig, its images on every minion."""
    with prog.phase("upstream: build e2e.test"):
        bins = gobuild.build(gobuild.e2e_target())
    if provider.has_node_shell:  # nodes that cannot pull: the images go into each one's containerd
        with prog.phase("upstream: images"):
            tag, tar = images.ensure_tar(assets(), bins, provider.images()["pause"],
                                         cluster_dir(root) / "logs" / "image-e2e.log")
        with prog.phase("upstream: images on minions"):
            images.import_on_minions(lambda n, c: provider.node_shell(n, c, timeout=900),
                                     provider.collection_nodes(), tag, tar)
    return bins


def judge(provider: ClusterProvider, root: Path, out: Path, *, focus: str, skip: str, procs: int,
          prog: Progress | None = None) -> list[SpecResult]:
    prog = prog or Progress("kubegate conformance")
    bins = prepare(provider, root, prog)
    with prog.phase("upstream: specs"):
        results, _ = run(bins, provider.kubeconfig, out, focus=focus, skip=skip, procs=procs,
                         context=provider.context)
    save(results, out / "results.json")
    return results


def save(results: list[SpecResult], path: Path) -> None:
    path.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")


def load(path: Path) -> list[SpecResult]:
    return [SpecResult(**r) for r in json.loads(path.read_text())]
