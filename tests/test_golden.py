"""The golden normaliser: what it hides must be exactly what legitimately changes per run.

Too little and the CLI goldens flap on every run; too much and a renamed column or a
reworded error slips through. The real kubectl outputs below are from a 1.33 client
against the 1.34 cluster.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubegate.kube.golden import GoldenFiles, GoldenMismatch, normalise, realign, unified_diff

SVC_TABLE = ("NAME   TYPE        CLUSTER-IP       EXTERNAL-IP   PORT(S)     AGE\n"
             "db     ClusterIP   10.247.237.176   10.245.1.3    27017/TCP   109s\n")


def test_same_table_from_two_runs_normalises_identically() -> None:
    later = ("NAME   TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)     AGE\n"
             "db     ClusterIP   10.247.77.10   10.245.1.3    27017/TCP   3h4m\n")
    assert normalise(SVC_TABLE) == normalise(later)
    assert normalise(SVC_TABLE) == ("NAME   TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)     AGE\n"
                                    "db     ClusterIP   <IP>         <IP>          27017/TCP   <AGE>\n")


def test_a_renamed_column_still_differs() -> None:
    assert normalise(SVC_TABLE) != normalise(SVC_TABLE.replace("CLUSTER-IP", "PORTAL-IP "))


@pytest.mark.parametrize("age", ["0s", "45s", "2m30s", "9m", "3h4m", "47h", "2d5h", "400d", "2y41d", "9y",
                                 "<invalid>"])
def test_every_human_duration_is_an_age(age: str) -> None:
    assert normalise(f"kg-rc   1   1   1   {age}") == "kg-rc   1   1   1   <AGE>\n"


@pytest.mark.parametrize("kept", ["27017/TCP", "v1.34.4", "1/1", "kg-rc-x7k2s", "name=db", "8080", "127.0.0.1:6443",
                                  "minion-3", "10s-ago"])
def test_values_that_only_look_volatile_are_kept(kept: str) -> None:
    assert normalise(f"X   {kept}") == f"X   {kept}\n"


def test_uids_timestamps_resource_versions_and_ids() -> None:
    text = ('"uid": "c040da3d-8536-11e4-a18b-0800279696e1",\n'
            '"creationTimestamp": "2014-12-16T15:18:12Z",\n'
            '"resourceVersion": "13",\n'
            "resourceVersion: '4567'\n"
            "Start Time:   Thu, 26 Nov 2026 14:20:00 +0000\n"
            "Container ID:   containerd://8f21d45e49b18b37b98ea7556346095261699bc0aa\n"
            "Image ID:   docker.io/kubegate/db@sha256:" + "ab" * 32 + "\n")
    assert normalise(text) == ('"uid": "<UID>",\n'
                               '"creationTimestamp": "<TIME>",\n'
                               '"resourceVersion": <RV>,\n'
                               "resourceVersion: <RV>\n"
                               "Start Time:     <TIME>\n"
                               "Container ID:   containerd://<CONTAINER-ID>\n"
                               "Image ID:       docker.io/kubegate/db@sha256:<DIGEST>\n")


def test_klog_headers_lose_their_time_and_pid() -> None:
    line = ('E1126 14:22:00.429817   14719 memcache.go:265] "Unhandled Error" err="couldn\'t get current server '
            'API group list"')
    assert normalise(line).startswith('<KLOG> "Unhandled Error"')


def test_literals_longest_first_then_rules() -> None:
    text = "kg-rc-x7k2p   1/1   Running   kg-contract-1a2b3c"
    got = normalise(text, {"kg-rc-x7k2p": "kg-rc-<POD>", "kg-rc": "NEVER", "kg-contract-1a2b3c": "<NS>"})
    assert got == "kg-rc-<POD>   1/1   Running   <NS>\n"


def test_realign_pads_blocks_and_keeps_indentation() -> None:
    lines = ["Name:   db", "Selector:  name=db", "", "  a  b", "  ccc  d", "single line"]
    assert realign(lines) == ["Name:       db", "Selector:   name=db", "", "  a     b", "  ccc   d", "single line"]


def test_empty_output_stays_empty() -> None:
    assert normalise("") == "" and normalise("\n\n") == ""


def test_check_passes_on_match_and_fails_with_a_unified_diff(tmp_path: Path) -> None:
    files = GoldenFiles(tmp_path)
    (tmp_path / "svc.txt").write_text(normalise(SVC_TABLE))
    assert files.check("svc", SVC_TABLE.replace("109s", "2m")) == normalise(SVC_TABLE)
    with pytest.raises(GoldenMismatch) as exc:
        files.check("svc", SVC_TABLE.replace("ClusterIP ", "NodePort  "))
    msg = str(exc.value)
    assert "--- golden/svc.txt" in msg and "+++ actual/svc.txt" in msg
    assert "-db     ClusterIP" in msg and "+db     NodePort" in msg
    assert "--update-golden" in msg


def test_missing_golden_names_the_option_and_shows_output(tmp_path: Path) -> None:
    with pytest.raises(GoldenMismatch, match="--update-golden") as exc:
        GoldenFiles(tmp_path).check("new", "error: unknown flag: --bogus\n")
    assert "error: unknown flag: --bogus" in str(exc.value)


def test_update_writes_normalised_text_only_when_changed(tmp_path: Path) -> None:
    files = GoldenFiles(tmp_path, update=True)
    files.check("svc", SVC_TABLE)
    files.check("svc", SVC_TABLE.replace("109s", "5m"))  # same after normalising: not rewritten
    assert files.written == [tmp_path / "svc.txt"]
    assert (tmp_path / "svc.txt").read_text() == normalise(SVC_TABLE)


@pytest.mark.parametrize("name", ["../escape", "a/b", "", "x y"])
def test_golden_names_stay_in_the_directory(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        GoldenFiles(tmp_path).path(name)


def test_unified_diff_is_empty_for_equal_text() -> None:
    assert unified_diff("a\n", "a\n", "x") == ""


def test_describe_rows_with_an_extra_cell_stay_in_the_block() -> None:
    text = ("Name:                     db\n"
            "Port:                     <unset>  27017/TCP\n"
            "Internal Traffic Policy:  Cluster\n")
    assert normalise(text) == ("Name:                      db\n"
                               "Port:                      <unset>   27017/TCP\n"
                               "Internal Traffic Policy:   Cluster\n")
