"""Choosing kubectl binaries: parsing versions, skew, the SDK dispatcher, sibling discovery.

The machine this was written on has a google-cloud-sdk `kubectl` dispatcher (reporting
"32+" and "-dispatcher") next to kubectl.1.27 ... kubectl.1.33, against a 1.34 server;
these tests pin the choices made for that layout without running any kubectl.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kubegate.kube import skew as kv
from kubegate.kube.skew import Discovery, KubectlBinary


def _client_json(minor: str, git: str) -> str:
    return json.dumps({"clientVersion": {"major": "1", "minor": minor, "gitVersion": git},
                       "kustomizeVersion": "v5.6.0"})


def test_parse_client_version_plain_and_vendor_suffix() -> None:
    assert kv.parse_client_version(_client_json("33", "v1.33.1")) == (1, 33, "v1.33.1")
    assert kv.parse_client_version(_client_json("32+", "v1.32.4-dispatcher")) == (1, 32, "v1.32.4-dispatcher")


def test_parse_server_version() -> None:
    assert kv.parse_server_version('{"major": "1", "minor": "34", "gitVersion": "v1.34.4"}') == (1, 34)


@pytest.mark.parametrize("bad", ["", "{}", '{"clientVersion": {"major": "1", "minor": "x"}}', "not json"])
def test_unparseable_client_versions_raise(bad: str) -> None:
    with pytest.raises((ValueError, KeyError)):
        kv.parse_client_version(bad)


@pytest.mark.parametrize(("client", "ok"), [(33, True), (34, True), (35, True), (32, False), (36, False)])
def test_skew_is_one_minor_either_way(client: int, ok: bool) -> None:
    assert kv.within_skew((1, client), (1, 34)) is ok


def test_other_major_is_never_in_skew() -> None:
    assert not kv.within_skew((2, 34), (1, 34))


SDK = "/usr/lib/google-cloud-sdk/bin/"


def _sdk_layout() -> list[tuple[str, tuple[int, int, str] | str]]:
    found: list[tuple[str, tuple[int, int, str] | str]] = [(SDK + "kubectl", (1, 32, "v1.32.4-dispatcher"))]
    found += [(SDK + f"kubectl.1.{m}", (1, m, f"v1.{m}.1")) for m in range(27, 34)]
    return found


def test_sdk_layout_against_1_34_keeps_only_1_33() -> None:
    disc = kv.select((1, 34), _sdk_layout())
    assert [b.label for b in disc.in_skew] == ["kubectl-1.33"]
    reasons = dict(disc.rejected)
    assert "dispatcher" in reasons[SDK + "kubectl"]
    assert reasons[SDK + "kubectl.1.32"] == "client 1.32 outside ±1 of server 1.34"
    assert len(disc.rejected) == 7


def test_best_is_exact_then_older_then_newer() -> None:
    found: list[tuple[str, tuple[int, int, str] | str]] = [
        ("/a/kubectl.1.35", (1, 35, "v1.35.0")), ("/a/kubectl.1.33", (1, 33, "v1.33.1")),
        ("/a/kubectl.1.34", (1, 34, "v1.34.2"))]
    assert [b.minor for b in kv.select((1, 34), found).in_skew] == [34, 33, 35]
    assert [b.minor for b in kv.select((1, 34), found[:2]).in_skew] == [33, 35]


def test_one_binary_per_minor_and_probe_errors_are_reasons() -> None:
    found: list[tuple[str, tuple[int, int, str] | str]] = [
        ("/env/kubectl", (1, 33, "v1.33.5")), ("/sdk/kubectl.1.33", (1, 33, "v1.33.1")),
        ("/sdk/kubectl.1.34", "cannot run: [Errno 8] Exec format error")]
    disc = kv.select((1, 34), found)
    assert [b.path for b in disc.in_skew] == ["/env/kubectl"]
    assert "already chosen" in dict(disc.rejected)["/sdk/kubectl.1.33"]
    assert "Exec format error" in dict(disc.rejected)["/sdk/kubectl.1.34"]


def test_unknown_server_offers_every_real_client() -> None:
    disc = kv.select(None, _sdk_layout())
    chosen, reason = disc.to_run()
    assert [b.minor for b in chosen] == [33, 32, 31, 30, 29, 28, 27]  # newest first, no dispatcher
    assert reason is None and disc.in_skew == []


def test_nothing_in_skew_gives_a_reason_naming_each_binary() -> None:
    disc = kv.select((1, 40), _sdk_layout())
    chosen, reason = disc.to_run()
    assert chosen == [] and reason is not None
    assert reason.startswith("no kubectl within ±1 minor of server 1.40")
    assert "kubectl.1.27: client 1.27 outside" in reason and "kubectl: v1.32.4-dispatcher" in reason


def _exe(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_candidates_follow_the_symlink_to_versioned_siblings(tmp_path: Path) -> None:
    sdk = tmp_path / "sdk" / "bin"
    sdk.mkdir(parents=True)
    real = _exe(sdk / "kubectl")
    for name in ("kubectl.1.33", "kubectl.1.27", "kubectl.1.33.bak", "kubectl-convert", "kubectl.1"):
        _exe(sdk / name)
    (sdk / "kubectl.1.30").write_text("not executable")
    usr_bin = tmp_path / "usr" / "bin"
    usr_bin.mkdir(parents=True)
    (usr_bin / "kubectl").symlink_to(real)
    env_kubectl = _exe(tmp_path / "kubectl-1.34")

    got = kv.candidate_paths(str(usr_bin / "kubectl"), [str(env_kubectl), str(sdk / "kubectl.1.33"), ""])
    assert got == [str(env_kubectl), str(sdk / "kubectl.1.33"), str(real), str(sdk / "kubectl.1.27")]


def test_candidates_without_any_kubectl(tmp_path: Path) -> None:
    assert kv.candidate_paths(None, [str(tmp_path / "missing")]) == []


def test_client_version_of_a_fake_binary(tmp_path: Path) -> None:
    fake = tmp_path / "kubectl.1.33"
    fake.write_text("#!/bin/sh\ncat <<'EOF'\n" + _client_json("33", "v1.33.1") + "\nEOF\n")
    fake.chmod(0o755)
    assert kv.client_version(str(fake)) == (1, 33, "v1.33.1")
    broken = tmp_path / "kubectl.1.99"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    broken.chmod(0o755)
    assert kv.client_version(str(broken)) == "`version --client` exited 3: boom"
    assert kv.client_version(os.devnull).startswith("cannot run")


def test_client_versions_are_remembered_until_the_binary_changes(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    fake = tmp_path / "kubectl.1.33"
    fake.write_text(f"#!/bin/sh\necho x >> {runs}\ncat <<'EOF'\n" + _client_json("33", "v1.33.1") + "\nEOF\n")
    fake.chmod(0o755)
    cache = tmp_path / "versions.json"
    for _ in range(2):
        assert kv.probe_clients([str(fake)], cache) == [(str(fake), (1, 33, "v1.33.1"))]
    assert runs.read_text().count("x") == 1, "the second probe came from the cache"
    fake.write_text(fake.read_text() + "\n")  # rebuilt: another size
    kv.probe_clients([str(fake)], cache)
    assert runs.read_text().count("x") == 2
    broken = tmp_path / "kubectl.1.99"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    assert isinstance(kv.probe_clients([str(broken)], cache)[0][1], str), "failures are not remembered"


def test_tally_summary_for_the_report() -> None:
    disc = Discovery(server=(1, 34), in_skew=[KubectlBinary(minor=33, path="/k/kubectl.1.33")],
                     rejected=[("/k/kubectl.1.32", "client 1.32 outside ±1 of server 1.34")])
    line = kv.tally_summary({"kubectl-1.33": (31, 0), "kubectl-1.35": (31, 2)}, disc)
    assert line == ("server 1.34; passed: kubectl-1.33; failed: kubectl-1.35 (2 failed); "
                    "not run: kubectl.1.32: client 1.32 outside ±1 of server 1.34")
