"""Remove what earlier (interrupted, crashed) runs left in the cluster, by label only.

Only objects carrying kubegate's owner label and a run id are candidates, and the shared
services namespace itself never is: a sweep cannot touch an object the harness did not
create. Runs still alive on this host (their lock in `.cluster/runs/` is held) are left
alone, so a sweep in one terminal cannot break a run in another; `--older-than` protects
runs on other hosts, whose locks this host cannot see. A namespace stuck in Terminating is
reported with the objects and finalizers that hold it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubegate.errors import KubegateError
from kubegate.kube.kubectl import Kubectl
from kubegate.kube.namespaces import OWNER_LABEL, RUN_LABEL, SHARED_LABEL
from kubegate.runs.cleanup import SHARED_NS_KINDS
from kubegate.wait import until

CANDIDATES = f"{OWNER_LABEL}=kubegate,{RUN_LABEL}"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`90s`, `30m`, `12h`, `2d` -> seconds."""
    m = _DURATION.match(text.strip())
    if not m:
        raise KubegateError(f"--older-than {text!r}: expected a number and a unit, like 30m, 12h or 2d")
    return float(m[1]) * _UNITS[m[2]]


@dataclass(frozen=True)
class Leftover:
    kind: str  # "namespace" or e.g. "pod" (in a shared namespace)
    name: str
    namespace: str | None
    run_id: str
    age_s: float
    terminating: bool

    def ref(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


def _age(item: dict[str, Any], now: float) -> float:
    ts = item["metadata"].get("creationTimestamp")
    if not ts:
        return 0.0
    return now - datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def select(items: list[dict[str, Any]], *, keep_runs: set[str], older_than: float | None,
           now: float, only_runs: set[str] | None = None) -> tuple[list[Leftover], list[str]]:
    """Which labelled objects are leftovers, and why the others were kept (pure, for tests)."""
    found: list[Leftover] = []
    kept: list[str] = []
    for i in items:
        meta = i["metadata"]
        lbl = meta.get("labels") or {}
        kind = str(i.get("kind", "Namespace")).lower()
        if kind == "namespace" and lbl.get(SHARED_LABEL) == "true":
            continue
        lo = Leftover(kind, meta["name"], meta.get("namespace"), lbl.get(RUN_LABEL, ""), _age(i, now),
                      bool(meta.get("deletionTimestamp")))
        if only_runs is not None and lo.run_id not in only_runs:
            continue
        if lo.run_id in keep_runs:
            kept.append(f"{lo.ref()}: run {lo.run_id} is still running")
        elif older_than is not None and lo.age_s < older_than:
            kept.append(f"{lo.ref()}: {lo.age_s:.0f}s old, younger than --older-than")
        else:
            found.append(lo)
    return found, kept


def leftovers(k: Kubectl, keep_runs: set[str] | None = None, older_than: float | None = None,
              shared_namespaces: list[str] | None = None,
              only_runs: set[str] | None = None) -> tuple[list[Leftover], list[str]]:
    k = k.with_namespace(None)
    items = k.get_json("namespaces", "-l", CANDIDATES)["items"]
    shared = shared_namespaces
    if shared is None:
        shared = [n["metadata"]["name"] for n in k.get_json("namespaces", "-l", f"{SHARED_LABEL}=true")["items"]]
    for ns in shared:
        res = k.run_e("get", SHARED_NS_KINDS, "-n", ns, "-l", CANDIDATES, "-o", "json")
        if res.returncode == 0:
            items += json.loads(res.stdout).get("items", [])
    return select(items, keep_runs=keep_runs or set(), older_than=older_than, now=time.time(), only_runs=only_runs)


def sweep(k: Kubectl, keep_runs: set[str] | None = None, timeout: float = 120, older_than: float | None = None,
          dry_run: bool = False, only_runs: set[str] | None = None) -> Iterator[str]:
    k = k.with_namespace(None)
    found, kept = leftovers(k, keep_runs, older_than, only_runs=only_runs)
    for line in kept:
        yield f"kept {line}"
    if not found:
        yield "nothing to sweep"
        return
    for lo in found:
        verb = "would delete" if dry_run else "deleting"
        state = ", Terminating" if lo.terminating else ""
        yield f"{verb} {lo.ref()} (run {lo.run_id}, {lo.age_s / 60:.0f} min old{state})"
        if not dry_run:
            ns_args = ["-n", lo.namespace] if lo.namespace else []
            k.run_e("delete", lo.kind, lo.name, *ns_args, "--wait=false", "--ignore-not-found")
    if dry_run:
        return
    names = {lo.name for lo in found if lo.kind == "namespace"}
    pending = set(names)

    def gone() -> bool | None:
        pending.intersection_update(i["metadata"]["name"] for i in k.get_json("namespaces")["items"])
        return True if not pending else None

    if pending:
        until(gone, timeout=timeout, every=2)
    for ns in sorted(pending):
        yield f"namespace {ns} still Terminating after {timeout:.0f}s: {stuck_reason(k, ns)}"
    yield f"swept {len(found) - len(pending)} of {len(found)} object(s)" + (
        f"; {len(pending)} namespace(s) stuck" if pending else "")


def content_kinds(conditions: list[dict[str, Any]]) -> list[str]:
    """Resource kinds named by NamespaceContentRemaining ("Some resources are remaining:
    pods. has 2 resource instances, ...")."""
    kinds: list[str] = []
    for c in conditions:
        if c.get("type") == "NamespaceContentRemaining" and c.get("status") == "True":
            kinds += re.findall(r"([a-z0-9][a-z0-9.-]*?)\.? has \d+ resource instances", c.get("message", ""))
    return kinds


def stuck_reason(k: Kubectl, ns: str) -> str:
    """The namespace's own conditions, plus each remaining object and its finalizers."""
    res = k.run_e("get", "namespace", ns, "-o", "json")
    if res.returncode != 0:
        return "gone" if "NotFound" in res.stderr else res.stderr.strip()
    ns_obj = json.loads(res.stdout)
    conditions = ns_obj.get("status", {}).get("conditions", [])
    reasons = [f"{c['type']}: {c.get('message', '')}" for c in conditions if c.get("status") == "True"]
    if ns_obj.get("spec", {}).get("finalizers"):
        reasons.append(f"namespace finalizers={ns_obj['spec']['finalizers']}")
    kinds = content_kinds(conditions) or ["all"]
    left = k.run_e("get", ",".join(kinds), "-n", ns, "-o",
                   "jsonpath={range .items[*]}{.kind}/{.metadata.name} finalizers={.metadata.finalizers}{\"\\n\"}{end}")
    reasons += [line for line in left.stdout.splitlines() if line.strip()]
    return "; ".join(reasons) or "no conditions reported"
