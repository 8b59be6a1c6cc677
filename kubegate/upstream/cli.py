"""`kubegate conformance`: the upstream judge from a shell, with a line per spec."""

from __future__ import annotations

import time
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.paths import reports_dir
from kubegate.providers.base import ClusterProvider
from kubegate.report.progress import Progress
from kubegate.rig.build import gobuild
from kubegate.upstream.ginkgo import FOCUS, SKIP, dry_run
from kubegate.upstream.judge import judge


def conformance(provider: ClusterProvider, root: Path, *, focus: str | None, skip: str | None, procs: int,
                list_only: bool) -> int:
    focus = focus or "|".join(FOCUS)
    skip = skip or SKIP
    if procs < 1:
        raise KubegateError("--procs must be at least 1")
    if list_only:
        for name in dry_run(gobuild.build(gobuild.e2e_target()), focus=focus, skip=skip):
            print(name)
        return 0
    provider.up()
    out = reports_dir() / "conformance" / time.strftime("%Y%m%d-%H%M%S")
    prog = Progress("kubegate conformance")
    results = judge(provider, root, out, focus=focus, skip=skip, procs=procs, prog=prog)
    if not results:
        raise KubegateError(f"no spec matched --focus {focus!r} and --skip {skip!r}; try --list")
    for r in sorted(results, key=lambda r: (r.state != "failed", r.name)):
        line = f"{r.state:7} {r.seconds:6.1f}s  {r.name}"
        if r.state != "passed":
            line += f"\n          {r.message.splitlines()[0] if r.message else ''}"
        print(line)
    failed = sum(r.state == "failed" for r in results)
    print(f"upstream specs: {len(results)} selected, {sum(r.state == 'passed' for r in results)} passed, "
          f"{failed} failed, {sum(r.state == 'skipped' for r in results)} skipped; JUnit: {out / 'junit_01.xml'}")
    return 1 if failed else 0
