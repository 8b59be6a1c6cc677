"""`kubegate doctor`: the triage walk on demand, for db and msg, from every node and the host.

What a user runs when a deploy "just does not work": one table per path, the cause of each
broken one on top, and an exit status CI can act on.
"""

from __future__ import annotations

from kubegate.collect.runner import ProviderRunner
from kubegate.errors import KubegateError
from kubegate.kube.topology import read_nodes, schedulable_ready
from kubegate.providers.base import ClusterProvider
from kubegate.services.deploy import SERVICES
from kubegate.triage.path import ProbePath
from kubegate.triage.walk import triage


def doctor(provider: ClusterProvider, namespace: str) -> tuple[str, bool]:
    nodes = [n.name for n in schedulable_ready(read_nodes(provider.kubectl()))]
    runner = ProviderRunner(provider)
    try:
        public_ip: str | None = provider.public_ip
    except KubegateError:  # an existing cluster without --public-ip: the host paths are skipped
        public_ip = None
    out: list[str] = []
    healthy = True
    for service in SERVICES:
        paths = [ProbePath(namespace, service, node) for node in nodes]
        if public_ip:
            paths.append(ProbePath(namespace, service, None, public_ip))
        for path in paths:
            result = triage(runner, path)
            bad = result.first_failure is not None
            healthy = healthy and not bad
            out.append(f"== {path.describe()}: {'FAIL: ' + result.cause() if bad else 'ok'} ({result.seconds}s)")
            out.append(result.table())
            out.append("")
    return "\n".join(out).rstrip() + "\n", healthy
