"""The web API's certificate on a kept app: reused while the same CA verifies it, replaced (and
its pods restarted) when a run holds another CA: a fresh CI runner on your cluster, or an
installed kubegate beside a checkout. Found when the wheel's gate ran after the checkout's: the
kept certificate was signed by the checkout's CA and the wheel's client could not verify it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubegate.kube.kubectl import KubectlResult
from kubegate.rig.pki import own_ca
from kubegate.services.app import CA_ANNOTATION, TLS_SECRET, _tls_secret


class FakeKubectl:
    def __init__(self) -> None:
        self.secret: dict[str, Any] | None = None
        self.applied = 0

    def run_e(self, *args: str, stdin: str | None = None, timeout: float = 120) -> KubectlResult:
        assert args[:3] == ("get", "secret", TLS_SECRET)
        if self.secret is None:
            return KubectlResult(("kubectl", *args), 1, "", 'Error from server (NotFound): secrets "x" not found', 0.0)
        return KubectlResult(("kubectl", *args), 0, json.dumps(self.secret), "", 0.0)

    def apply(self, manifest: str) -> None:
        self.secret, self.applied = json.loads(manifest), self.applied + 1


class FakeProvider:
    public_ip = "10.245.1.4"

    def __init__(self, folder: Path) -> None:
        self.ca = own_ca(folder)

    def serving_ca(self) -> tuple[Path, Path]:
        return self.ca


def test_kept_certificate_reused_with_its_ca_and_replaced_under_another(tmp_path: Path) -> None:
    k, mine, theirs = FakeKubectl(), FakeProvider(tmp_path / "a"), FakeProvider(tmp_path / "b")
    assert _tls_secret(k, mine, "pulp") == (mine.ca[0], False)  # type: ignore[arg-type]
    assert k.applied == 1 and k.secret is not None
    assert _tls_secret(k, mine, "pulp") == (mine.ca[0], False) and k.applied == 1  # type: ignore[arg-type]
    assert _tls_secret(k, theirs, "pulp") == (theirs.ca[0], True) and k.applied == 2  # type: ignore[arg-type]
    assert k.secret["metadata"]["annotations"][CA_ANNOTATION] != ""
    k.secret["metadata"]["annotations"].pop(CA_ANNOTATION)  # a Secret from before the annotation
    assert _tls_secret(k, theirs, "pulp") == (theirs.ca[0], True) and k.applied == 3  # type: ignore[arg-type]
