"""AMQP (`msg`) send/receive through the portal IP from every minion and the publicIP from the host.

Each probe sends N numbered messages with settlement and receives them back: every one
exactly once and in order. Connections without valid credentials must be refused.
Credentials come from the Secret and reach the probe on stdin, never on a command line.
"""

from __future__ import annotations

import os

import pytest
from kubegate.fixtures.clients import NodeProbe

from kubegate.kube.kubectl import Kubectl
from kubegate.services.asks import Amqp
from kubegate.services.clients import probe_from_host, probe_in_pod
from kubegate.services.deploy import Deployment, ready_endpoints

pytestmark = [pytest.mark.connectivity, pytest.mark.usefixtures("services_stay_up")]
COUNT = 50


def _creds(services: Deployment) -> str:
    user, password = services.credentials
    return f"{user}\n{password}\n"


@pytest.mark.triage("msg")
@pytest.mark.smoke
def test_send_receive_via_portal_ip(node: str, services: Deployment, services_kubectl: Kubectl,
                                   node_probe: NodeProbe) -> None:
    """Through the portal IP, and every endpoint behind it (directly, and hit through the portal
    IP): one connection through a Service with one dead endpoint among several passes by luck."""
    endpoints, target_port = ready_endpoints(services_kubectl, "msg")
    assert endpoints, "the msg Service has no ready endpoint"
    out = node_probe(node, "amqp send/receive via portal IP",
                     Amqp.portal(count=COUNT, every_endpoint=endpoints, endpoint_port=target_port),
                     stdin=_creds(services))
    assert out.ok, out.explain()
    assert sorted(out.details.get("endpoints", {})) == sorted(endpoints.values())
    assert out.details.get("received") == COUNT, out.details
    assert out.target == f"{services.cluster_ips['msg']}:{services.ports['msg']}", \
        f"the pod's MSG_SERVICE_HOST/PORT (set by the kubelet) led to {out.target}, not the Service's portal IP"


@pytest.mark.triage("msg")
@pytest.mark.smoke
def test_send_receive_via_public_ip_from_host(services: Deployment) -> None:
    user, password = services.credentials
    env = {**os.environ, "KUBEGATE_MSG_USERNAME": user, "KUBEGATE_MSG_PASSWORD": password}
    out = probe_from_host("amqp send/receive via public IP", Amqp(services.public_ip, count=COUNT), env=env)
    assert out.ok, out.explain()
    assert out.details.get("received") == COUNT, out.details


def test_bad_credentials_refused_via_public_ip(services: Deployment) -> None:
    user, password = services.credentials
    env = {**os.environ, "KUBEGATE_MSG_USERNAME": user, "KUBEGATE_MSG_PASSWORD": password}
    out = probe_from_host("amqp refusal via public IP", Amqp(services.public_ip, expect_refused=True), env=env)
    assert out.ok, out.explain()


def test_bad_credentials_refused_via_portal_ip(services: Deployment, services_kubectl: Kubectl,
                                               clients: dict[str, str]) -> None:
    pod = next(iter(clients.values()))
    out = probe_in_pod(services_kubectl, pod, "amqp refusal via portal IP",
                       Amqp.portal(expect_refused=True), stdin=_creds(services))
    assert out.ok, out.explain()
