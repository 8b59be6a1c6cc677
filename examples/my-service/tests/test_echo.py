"""The release gate of my-service: its echo Service answers through the portal IP from every
node and through the publicIP from outside, checked with kubegate's public fixtures."""

from __future__ import annotations

import secrets
import string
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubegate.fixtures import ClusterProvider, Http, NodeProbe, wait_accepting

MANIFEST = Path(__file__).resolve().parent.parent / "manifests" / "echo.yaml"


@dataclass(frozen=True)
class Echo:
    portal_ip: str
    port: int
    public_ip: str


@pytest.fixture(scope="module")
def echo(cluster: ClusterProvider, module_namespace: Callable[[str], str]) -> Echo:
    """my-service deployed into a namespace of its own, Ready before any test asks it."""
    k = cluster.kubectl(module_namespace("my-service"))
    k.apply(string.Template(MANIFEST.read_text()).substitute(
        IMAGE=cluster.images()["client"], PULL_POLICY=cluster.pull_policy, PUBLIC_IP=cluster.public_ip))
    k.wait("deployment/echo", "condition=Available", timeout=180)
    service = k.get_json("service", "echo")
    port = service["spec"]["ports"][0]["port"]
    # Available pods are not yet a served Service: kube-proxy programs it a moment later (and
    # rejects until then). Once the publicIP accepts, the nodes' kube-proxies have synced too.
    wait_accepting(cluster.public_ip, [port], "my-service's echo Service")
    return Echo(service["spec"]["clusterIP"], port, cluster.public_ip)


def test_echo_answers_through_its_portal_ip_from_every_node(node: str, node_probe: NodeProbe, echo: Echo) -> None:
    word = secrets.token_hex(4)
    outcome = node_probe(node, "echo via portal IP", Http(echo.portal_ip, echo.port, path=f"/echo?msg={word}",
                                                           expect_body=f"{word} from echo-"))
    assert outcome.ok, outcome.explain()


def test_echo_answers_through_the_public_ip(echo: Echo) -> None:
    word = secrets.token_hex(4)
    with urllib.request.urlopen(f"http://{echo.public_ip}:{echo.port}/echo?msg={word}", timeout=10) as resp:
        body = resp.read().decode()
    assert body.startswith(f"{word} from echo-"), body
