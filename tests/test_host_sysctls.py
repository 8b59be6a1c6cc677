"""The host-sysctl snapshot and diff (pure logic on a fake /proc/sys tree)."""

from __future__ import annotations

from pathlib import Path

from kubegate.rig import host_sysctls


def _tree(root: Path, values: dict[str, str]) -> None:
    for key, value in values.items():
        path = root.joinpath(*key.split("."))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")


def test_read_skips_volatile_and_other_prefixes(tmp_path: Path) -> None:
    _tree(tmp_path, {"kernel.panic": "0", "kernel.random.uuid": "x", "vm.overcommit_memory": "0",
                     "net.ipv4.ip_forward": "1", "kernel.ns_last_pid": "42", "kernel.keys.root_maxkeys": "1000000"})
    assert host_sysctls.read(tmp_path) == {"kernel.panic": "0", "vm.overcommit_memory": "0",
                                           "kernel.keys.root_maxkeys": "1000000"}


def test_diff_names_kubelet_tunables_first(tmp_path: Path) -> None:
    before = {"kernel.panic": "0", "kernel.pid_max": "32768", "vm.overcommit_memory": "0", "vm.swappiness": "60"}
    after = {**before, "kernel.panic": "10", "kernel.pid_max": "4194304", "vm.overcommit_memory": "1"}
    assert host_sysctls.diff(before, after) == [
        "kernel.panic: 0 -> 10", "vm.overcommit_memory: 0 -> 1", "kernel.pid_max: 32768 -> 4194304"]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s" / "host-sysctls.json"
    host_sysctls.save(path, {"kernel.panic": "1"})
    assert host_sysctls.load(path) == {"kernel.panic": "1"}
    assert host_sysctls.load(tmp_path / "missing.json") is None
