"""Current and previous container logs of the pods involved.

`--previous` is what explains a CrashLoopBackOff, but most pods never restarted; its
absence is recorded in the index rather than written as an error file.
"""

from __future__ import annotations

from kubegate.collect.items import Item, kubectl_item
from kubegate.collect.runner import Result

TAIL_LINES = 1000


def _no_previous(result: Result) -> bool:
    err = result.stderr.lower()
    return "previous terminated container" in err or "not found" in err or "has not" in err


def _not_started(result: Result) -> bool:
    err = result.stderr.lower()
    return "waiting to start" in err or "is not valid for pod" in err or "containercreating" in err


def pod_log_items(namespace: str, pod: str) -> list[Item]:
    base = ["logs", pod, "-n", namespace, "--all-containers", "--prefix", "--timestamps", f"--tail={TAIL_LINES}"]
    return [
        kubectl_item(f"{namespace}/pod-{pod}.log", f"{namespace}/{pod}: logs", base, absent=_not_started),
        kubectl_item(f"{namespace}/pod-{pod}.previous.log", f"{namespace}/{pod}: previous logs",
                     [*base, "--previous"], absent=lambda r: _no_previous(r) or _not_started(r)),
    ]
