"""`msg` as its users' own clients see it: python-qpid-proton (AMQP 1.0) and kombu (AMQP
0-9-1, what Celery speaks) with their default options, from a pod on every node through the
portal IP and from the host through the publicIP.

The scripts in suites/clients/ are written the way their libraries' documentation writes
them, and run unchanged everywhere: no virtual host, no broker-specific option, a queue
name of the client's choosing. Only SASL PLAIN with the Secret's credentials gets in.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubegate.kube.kubectl import Kubectl
from kubegate.report import current
from kubegate.services.deploy import Deployment

pytestmark = [pytest.mark.connectivity, pytest.mark.usefixtures("services_stay_up")]
CLIENTS = Path(__file__).resolve().parent / "clients"
POD_PYTHON = "/opt/kubegate/venv/bin/python"
COUNT = 50
LIBRARIES = ("proton", "kombu")
SCRIPTS = {"proton": "proton_default.py", "kombu": "kombu_default.py"}


def _creds(services: Deployment) -> str:
    user, password = services.credentials
    return f"{user}\n{password}\n"


def _result(stdout: str, stderr: str, where: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            data: dict[str, Any] = json.loads(line)
            return data
    err = (stderr.strip() or stdout.strip() or "no output").splitlines()[-1]
    pytest.fail(f"{where}: the client did not finish: {err}", pytrace=False)


def run_in_pod(k: Kubectl, pod: str, library: str, args: list[str], stdin: str) -> dict[str, Any]:
    """The script's own text goes in as `python -c`, so the pod needs nothing but the library."""
    script = (CLIENTS / SCRIPTS[library]).read_text()
    started = time.monotonic()
    # $MSG_SERVICE_HOST/PORT expand in the pod: the address a consumer learns from its environment.
    res = k.run_e("exec", "-i", pod, "--", "sh", "-c", f'exec {POD_PYTHON} -c "$0" {" ".join(args)}', script,
                  stdin=stdin, timeout=120)
    data = _result(res.stdout, res.stderr, f"{library} from pod {pod}")
    data["wall_s"] = round(time.monotonic() - started, 3)
    return data


def run_on_host(library: str, args: list[str], stdin: str) -> dict[str, Any]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(CLIENTS / SCRIPTS[library]), *args], input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)
    data = _result(proc.stdout, proc.stderr, f"{library} from the host")
    data["wall_s"] = round(time.monotonic() - started, 3)
    return data


def exactly_once_in_order(data: dict[str, Any], path: str) -> None:
    sent, received = data["sent"], data["received"]
    current().record_probe(f"{data['client']} {COUNT} msgs {path}", data["seconds"], sent == received)
    current().add_fact(f"{data['client']} {path}", f"sent {len(sent)}, received {len(received)}, "
                                                   f"lost {len(set(sent) - set(received))}, "
                                                   f"duplicated {len(received) - len(set(received))}")
    assert len(received) == len(set(received)), f"{path}: duplicates: {len(received) - len(set(received))}"
    assert set(received) == set(sent), f"{path}: lost {sorted(set(sent) - set(received))[:10]}"
    assert received == sent, f"{path}: out of order: {received[:10]}..."


@pytest.mark.triage("msg")
@pytest.mark.parametrize("library", LIBRARIES)
def test_default_client_via_portal_ip(library: str, node: str, services: Deployment, services_kubectl: Kubectl,
                                      client_on: Callable[[str], str]) -> None:
    data = run_in_pod(services_kubectl, client_on(node), library,
                      ["$MSG_SERVICE_HOST", "$MSG_SERVICE_PORT", str(COUNT)], _creds(services))
    exactly_once_in_order(data, f"via portal IP from {node}")


@pytest.mark.triage("msg")
@pytest.mark.smoke
@pytest.mark.parametrize("library", LIBRARIES)
def test_default_client_via_public_ip_from_host(library: str, services: Deployment) -> None:
    data = run_on_host(library, [services.public_ip, str(services.ports["msg"]), str(COUNT)], _creds(services))
    exactly_once_in_order(data, "via public IP from the host")


def test_proton_with_a_service_name_as_hostname(services: Deployment) -> None:
    """A client that found `msg` through a name sends that name in its AMQP open frame."""
    name = f"msg.{services.namespace}.svc.cluster.local"
    data = run_on_host("proton", [services.public_ip, str(services.ports["msg"]), "5", name], _creds(services))
    assert data["received"] == data["sent"], data


#: how AMQP 0-9-1 says no to a login: connection.close with a reply code, 530 "Authentication
#: failed" from Qpid Broker-J (py-amqp: NotAllowed) or 403 ACCESS_REFUSED from RabbitMQ (AccessRefused);
#: and for a mechanism the broker does not offer, its connection.start listing the ones it does
#: (py-amqp: "Couldn't find appropriate auth mechanism (can offer: ...; available: ...)").
PROTOCOL_REFUSALS = ("(530) Authentication failed", "(403) ACCESS_REFUSED", "Couldn't find appropriate auth mechanism")


def refused_by_protocol(answers: dict[str, str], where: str) -> None:
    """Every login attempt got the protocol's refusal. Anything else (accepted, a reset, EOF, a
    time-out, a client-side TypeError) fails, naming what happened instead."""
    accepted = [label for label, answer in answers.items() if answer == "accepted"]
    assert not accepted, f"{where}: the broker let in: {accepted}"
    other = [f"{label}: {a}" for label, a in answers.items() if not any(r in a for r in PROTOCOL_REFUSALS)]
    assert not other, f"{where}: not a refusal by the broker (connection.close 530/403, or its mechanism list): {other}"


def test_amqp_0_9_1_refuses_wrong_guest_and_anonymous_logins(services: Deployment, services_kubectl: Kubectl,
                                                              clients: dict[str, str]) -> None:
    host = run_on_host("kombu", [services.public_ip, str(services.ports["msg"]), "0", "--expect-refused"],
                       _creds(services))
    refused_by_protocol(host["refusals"], "via public IP from the host")
    pod = clients[sorted(clients)[0]]
    inside = run_in_pod(services_kubectl, pod, "kombu",
                        ["$MSG_SERVICE_HOST", "$MSG_SERVICE_PORT", "0", "--expect-refused"], _creds(services))
    refused_by_protocol(inside["refusals"], f"via portal IP from {pod}")
