"""kubectl apply beside a controller, played on the real API server: the ServiceAccount controller
creates `default` in a new namespace while kubegate applies its own `default` (the one naming a
pull Secret). kubectl reads, finds nothing, creates, and gets AlreadyExists; it failed a run on
another cluster by luck of timing (issue 26).

The race is made certain, not likely: an interposer in front of `kubectl proxy` holds kubectl's
read of `default` until the controller's object exists, then answers it "not found". Everything
after is real: kubectl's create goes to the API server, which refuses it because the
controller's object is there, and kubegate's apply must then patch that object.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from kubegate.fixtures.proxy import ApiProxy

from kubegate.kube.kubectl import Kubectl
from kubegate.providers.base import ClusterProvider
from kubegate.wait import poll

pytest_plugins = ["kubegate.fixtures.proxy"]
pytestmark = [pytest.mark.nightly, pytest.mark.cli]

PULL_SECRET = "kg-race-pull"
HOP_BY_HOP = {"host", "connection", "accept-encoding", "content-length", "transfer-encoding", "keep-alive"}


@dataclass
class LateRead:
    """What the interposer hides and what it saw: (method, path, status) of every relayed call."""

    upstream: str
    target: str  # the path whose first GET is answered "not found" once the object exists
    armed: bool = True
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.http.trust_env = False  # loopback only, never an HTTP(S)_PROXY from the environment

    def hide(self) -> bytes:
        """Wait for the controller's object, then deny it: the read kubectl makes before its create."""
        poll(lambda: self.http.get(self.upstream + self.target, timeout=10).status_code == 200 or None,
             timeout=60, every=0.2,
             describe=lambda s: f"the ServiceAccount controller created no {self.target} in {s:.0f}s")
        self.armed = False
        return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": 'serviceaccounts "default" not found', "reason": "NotFound",
                           "details": {"name": "default", "kind": "serviceaccounts"}, "code": 404}).encode()


def _handler(late: LateRead) -> type[BaseHTTPRequestHandler]:
    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?")[0]
            if self.command == "GET" and path == late.target and late.armed:
                status, data, ctype = 404, late.hide(), "application/json"
            else:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                resp = late.http.request(self.command, late.upstream + self.path, data=body or None,
                                         headers=headers, timeout=60, allow_redirects=False)
                status, data, ctype = resp.status_code, resp.content, resp.headers.get("Content-Type", "")
            late.seen.append((self.command, path, status))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

        def log_message(self, *args: object) -> None:
            pass

    return Relay


@pytest.fixture
def interposed(api_proxy: ApiProxy, kubectl_best: Kubectl, own_namespace: str,
               tmp_path: Path) -> Iterator[tuple[Kubectl, LateRead]]:
    """A kubectl whose API server is the interposer (on loopback, in front of `kubectl proxy`)."""
    late = LateRead(api_proxy.url, f"/api/v1/namespaces/{own_namespace}/serviceaccounts/default")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(late))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = tmp_path / "interposed.kubeconfig"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "late",
        "clusters": [{"name": "late", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "contexts": [{"name": "late", "context": {"cluster": "late", "namespace": own_namespace}}],
        "users": [{"name": "late", "user": {}}]}))
    try:
        yield Kubectl(config, binary=kubectl_best.binary), late
    finally:
        server.shutdown()
        server.server_close()
        late.http.close()


def _manifest(namespace: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": namespace},
         "imagePullSecrets": [{"name": PULL_SECRET}]}]})


def _status_of(late: LateRead, method: str, suffix: str) -> list[int]:
    return [s for m, p, s in late.seen if m == method and p.endswith(suffix)]


def test_the_race_reproduced_fails_a_single_kubectl_apply(interposed: tuple[Kubectl, LateRead],
                                                          own_namespace: str) -> None:
    k, late = interposed
    res = k.run_e("apply", "-f", "-", stdin=_manifest(own_namespace))
    assert _status_of(late, "POST", "/serviceaccounts") == [409], f"relayed calls: {late.seen}"
    assert res.returncode != 0 and "(AlreadyExists)" in res.stderr, (
        f"kubectl apply after a hidden read: exit {res.returncode}, stderr {res.stderr.strip()!r}")


def test_kubegate_apply_patches_the_controllers_service_account(
        interposed: tuple[Kubectl, LateRead], own_namespace: str, cluster: ClusterProvider) -> None:
    k, late = interposed
    k.apply(_manifest(own_namespace))
    assert _status_of(late, "POST", "/serviceaccounts") == [409], f"the race did not happen: {late.seen}"
    assert _status_of(late, "PATCH", "/serviceaccounts/default") == [200], f"relayed calls: {late.seen}"
    sa = cluster.kubectl(own_namespace).get_json("serviceaccount", "default")
    names = [s.get("name") for s in sa.get("imagePullSecrets") or []]
    assert PULL_SECRET in names, f"the controller's ServiceAccount after kubegate's apply names {names}"
