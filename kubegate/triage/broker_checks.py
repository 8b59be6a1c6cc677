"""The broker accepts the Secret's credentials when asked directly (through `kubectl
port-forward` to its pod, past every Service rule): a rotated Secret, or a broker started
with other credentials, fails here and not in the plumbing."""

from __future__ import annotations

import base64
import json

from kubegate.collect.runner import Runner
from kubegate.errors import KubegateError
from kubegate.kube.portforward import port_forward
from kubegate.services.probes.amqp import probe_amqp
from kubegate.services.probes.result import AUTH_FAILURE
from kubegate.triage.facts import Endpoint, Facts
from kubegate.triage.finding import Finding

SECRET = "msg-credentials"


def broker_accepts_secret(runner: Runner, f: Facts, ep: Endpoint) -> Finding:
    provider = getattr(runner, "provider", None)
    if provider is None or not ep.pod:
        return Finding("credentials", None, "no kubectl to reach the broker pod directly")
    ns = ["-n", f.path.namespace]
    secret = runner.kubectl(["get", "secret", SECRET, *ns, "-o", "json"], 10)
    if not secret.ok:
        return Finding("credentials", None, f"cannot read Secret {SECRET}: {secret.error()}")
    data = json.loads(secret.stdout).get("data", {})
    user = base64.b64decode(data.get("username", "")).decode()
    password = base64.b64decode(data.get("password", "")).decode()
    try:
        with port_forward(provider.kubectl(f.path.namespace), ep.pod, f.target_port or 5672) as local:
            res = probe_amqp("127.0.0.1", local, username=user, password=password, count=1, timeout_s=5)
    except KubegateError as exc:
        return Finding("credentials", None, f"could not reach {ep.pod} directly: {exc}", ep.node)
    evidence = f"AMQP SASL PLAIN as {user} to pod/{ep.pod} (kubectl port-forward) -> {res.error or 'accepted'}"
    if res.ok:
        return Finding("credentials", True, f"{ep.pod} accepts the Secret's credentials", ep.node, evidence)
    if res.details.get("failure") == AUTH_FAILURE:
        return Finding("credentials", False, f"the broker {ep.pod} refuses the credentials in Secret {SECRET} "
                                             "(rotated since the broker started?)", ep.node, evidence)
    return Finding("credentials", False, f"the broker {ep.pod} does not complete an AMQP exchange directly",
                   ep.node, evidence)
