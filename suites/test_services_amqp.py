"""AMQP (`msg`) send/receive through the portal IP from every minion and the publicIP from the host.

Each probe sends N numbered messages with settlement and receives them back: every one
exactly once and in order. Connections without valid credentials must be refused.
Credentials come from the Secret and reach the probe on stdin, never on a command line.
"""

from __future__ import annotations

import os

import pytest

from kubegate.clients import probe_from_host, probe_in_pod
from kubegate.deploy import Deployment
from kubegate.kubectl import Kubectl
from kubegate.spec import ClusterSpec

pytestmark = [pytest.mark.connectivity]
MINIONS = [m.name for m in ClusterSpec().minions]
PORTAL = ["--host", "$MSG_SERVICE_HOST", "--port", "$MSG_SERVICE_PORT"]
COUNT = "50"


def _creds(services: Deployment) -> str:
    user, password = services.credentials
    return f"{user}\n{password}\n"


@pytest.mark.smoke
@pytest.mark.parametrize("node", MINIONS)
def test_send_receive_via_portal_ip(node: str, services: Deployment, services_kubectl: Kubectl,
                                   clients: dict[str, str]) -> None:
    if node not in clients:
        pytest.skip(f"no Ready node {node}")
    out = probe_in_pod(services_kubectl, clients[node], "amqp send/receive via portal IP",
                       ["amqp", *PORTAL, "--count", COUNT, "--credentials-stdin"], stdin=_creds(services))
    assert out.ok, out.explain()
    assert out.details.get("count") == int(COUNT)


@pytest.mark.smoke
def test_send_receive_via_public_ip_from_host(services: Deployment) -> None:
    user, password = services.credentials
    env = {**os.environ, "KUBEGATE_MSG_USERNAME": user, "KUBEGATE_MSG_PASSWORD": password}
    out = probe_from_host("amqp send/receive via public IP", ["amqp", "--host", services.public_ip,
                                                              "--count", COUNT], env=env)
    assert out.ok, out.explain()


def test_bad_credentials_refused_via_public_ip(services: Deployment) -> None:
    user, password = services.credentials
    env = {**os.environ, "KUBEGATE_MSG_USERNAME": user, "KUBEGATE_MSG_PASSWORD": password}
    out = probe_from_host("amqp refusal via public IP", ["amqp", "--host", services.public_ip,
                                                         "--expect-refused"], env=env)
    assert out.ok, out.explain()


def test_bad_credentials_refused_via_portal_ip(services: Deployment, services_kubectl: Kubectl,
                                               clients: dict[str, str]) -> None:
    pod = next(iter(clients.values()))
    out = probe_in_pod(services_kubectl, pod, "amqp refusal via portal IP",
                       ["amqp", *PORTAL, "--expect-refused", "--credentials-stdin"], stdin=_creds(services))
    assert out.ok, out.explain()
