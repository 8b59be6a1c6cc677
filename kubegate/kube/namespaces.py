"""Run-scoped namespaces: everything kubegate creates carries its run id.

Labels are the only thing `kubegate sweep` trusts, so a sweep can never touch an object
the harness did not create, and two runs (or xdist workers) never share a namespace.
"""

from __future__ import annotations

import json
import re
import secrets

from kubegate.kube.kubectl import Kubectl

OWNER_LABEL = "kubegate.io/owner"
RUN_LABEL = "kubegate.io/run-id"
#: the services namespace is shared by runs (externalIPs cannot be duplicated); never swept
SHARED_LABEL = "kubegate.io/shared"


def labels(run_id: str) -> dict[str, str]:
    return {OWNER_LABEL: "kubegate", RUN_LABEL: _label_value(run_id)}


def _label_value(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", value)[:63].strip("-_.") or "none"


def unique_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def create(kubectl: Kubectl, name: str, labelled: dict[str, str], extra: str = "") -> str:
    """The namespace `name` with these labels, then `extra`: objects it needs before its first pod
    (the provider's pull Secret and the `default` ServiceAccount naming it, which the
    ServiceAccount controller creates too: Kubectl.apply takes that race)."""
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labelled}}))
    if extra:
        kubectl.apply(extra)
    return name


def delete(kubectl: Kubectl, name: str, wait: bool = False) -> None:
    kubectl.run_e("delete", "namespace", name, "--ignore-not-found", f"--wait={'true' if wait else 'false'}")
