"""Remove what earlier (interrupted, crashed) runs left in the cluster, by label only.

Only namespaces carrying kubegate's owner label and a run id are candidates, and the
shared services namespace is never one: a sweep cannot touch an object the harness did
not create. A namespace stuck in Terminating is reported with what holds it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from kubegate.kubectl import Kubectl
from kubegate.namespaces import OWNER_LABEL, RUN_LABEL

SHARED_LABEL = "kubegate.io/shared"


def leftovers(k: Kubectl, keep_run: str | None = None) -> list[str]:
    sel = f"{OWNER_LABEL}=kubegate,{RUN_LABEL},{SHARED_LABEL}!=true"
    items = k.get_json("namespaces", "-l", sel)["items"]
    return [i["metadata"]["name"] for i in items
            if keep_run is None or i["metadata"]["labels"].get(RUN_LABEL) != keep_run]


def sweep(k: Kubectl, keep_run: str | None = None, timeout: float = 120) -> Iterator[str]:
    names = leftovers(k, keep_run)
    if not names:
        yield "nothing to sweep"
        return
    for ns in names:
        k.run_e("delete", "namespace", ns, "--wait=false")
        yield f"deleting namespace {ns}"
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending and time.monotonic() < deadline:
        present = {i["metadata"]["name"] for i in k.get_json("namespaces")["items"]}
        pending &= present
        if pending:
            time.sleep(2)
    for ns in sorted(pending):
        yield f"namespace {ns} still Terminating: {stuck_reason(k, ns)}"
    if not pending:
        yield f"swept {len(names)} namespace(s)"


def stuck_reason(k: Kubectl, ns: str) -> str:
    """The namespace's own conditions plus the objects left in it and their finalizers."""
    res = k.run_e("get", "namespace", ns, "-o", "json")
    reasons: list[str] = []
    if res.returncode == 0:
        status = json.loads(res.stdout).get("status", {})
        reasons += [f"{c['type']}: {c.get('message', '')}" for c in status.get("conditions", [])
                    if c.get("status") == "True"]
    left = k.run_e("get", "all", "-n", ns, "-o",
                   "jsonpath={range .items[*]}{.kind}/{.metadata.name} finalizers={.metadata.finalizers}{\"\\n\"}{end}")
    reasons += [line for line in left.stdout.splitlines() if line.strip()]
    return "; ".join(reasons) or "no conditions reported"
