"""The broker accepts the Secret's credentials when asked directly (its pod IP, from a client
pod): a rotated Secret or a broker started with other credentials fails here, not in the plumbing."""

from __future__ import annotations

import base64
import json

from kubegate.collect.runner import Runner
from kubegate.triage.facts import Endpoint, Facts
from kubegate.triage.finding import Finding

SECRET = "msg-credentials"
CLIENT_SELECTOR = "kubegate.io/client=true"


def broker_accepts_secret(runner: Runner, f: Facts, ep: Endpoint) -> Finding:
    ns = ["-n", f.path.namespace]
    secret = runner.kubectl(["get", "secret", SECRET, *ns, "-o", "json"], 10)
    if not secret.ok:
        return Finding("credentials", None, f"cannot read Secret {SECRET}: {secret.error()}")
    data = json.loads(secret.stdout).get("data", {})
    user = base64.b64decode(data.get("username", "")).decode()
    password = base64.b64decode(data.get("password", "")).decode()
    pods = runner.kubectl(["get", "pods", *ns, "-l", CLIENT_SELECTOR, "--field-selector=status.phase=Running",
                           "-o", "jsonpath={.items[*].metadata.name}"], 10)
    clients = pods.stdout.split() if pods.ok else []
    if not clients:
        return Finding("credentials", None, "no running client pod to try the Secret's credentials from")
    args = ["exec", "-i", *ns, clients[0], "--", "kubegate-probe", "amqp", "--host", ep.address,
            "--port", str(f.target_port), "--count", "1", "--credentials-stdin", "--timeout", "5", "--json"]
    res = runner.kubectl(args, 30, stdin=f"{user}\n{password}\n")
    line = next((ln for ln in reversed(res.stdout.splitlines()) if ln.startswith("{")), "")
    outcome = json.loads(line) if line else {"ok": False, "error": res.error()}
    if not outcome.get("ok"):
        error = str(outcome.get("error") or "")
        if "auth" in error.lower() or "unauthorized" in error.lower():
            return Finding("credentials", False, f"the broker {ep.pod} refuses the Secret {SECRET}'s credentials",
                           ep.node, error)
        return Finding("credentials", False, f"the broker {ep.pod} did not complete an AMQP exchange directly: "
                                             f"{error[:160]}", ep.node, error)
    return Finding("credentials", True, f"{ep.pod} accepts the Secret's credentials", ep.node)
