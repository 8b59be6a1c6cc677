"""The room check before new image stores: refused in one line naming what to free, silent when
the stores exist already (a cached bring-up) or the disk has room."""

from __future__ import annotations

import subprocess
from collections import namedtuple
from pathlib import Path

import pytest

from kubegate.errors import KubegateError
from kubegate.rig.machines import diskspace

Usage = namedtuple("Usage", "total used free")
GiB = diskspace.GiB


def fake_docker(volumes: dict[str, str]):  # name -> owner
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        if args[:2] == ("volume", "ls") and "-q" in args:
            out = "\n".join(volumes)
        elif args[:2] == ("volume", "ls"):
            out = "\n".join(f"{n} {o}" for n, o in volumes.items())
        elif args[:1] == ("info",):
            out = "/var/lib/docker"
        else:
            out = ""
        return subprocess.CompletedProcess(["docker", *args], 0, out, "")
    return run


@pytest.fixture
def images(tmp_path: Path) -> Path:
    (tmp_path / "db.tar").write_bytes(b"x" * 1000)
    (tmp_path / "msg.tar").write_bytes(b"x" * 500)
    (tmp_path / "index.json").write_text("{}")
    return tmp_path


def test_one_store_needs_twice_its_tarballs(images: Path) -> None:
    assert diskspace.store_need(images) == 3000


def test_refused_with_the_other_checkouts_to_purge(images: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diskspace, "_docker", fake_docker({"kg-old-1": "/tmp/old", "kg-old-2": "/tmp/old"}))
    monkeypatch.setattr(diskspace.shutil, "disk_usage", lambda p: Usage(0, 0, GiB // 2))
    monkeypatch.setattr(diskspace, "_volume_bytes", lambda name: 3 * GiB)
    with pytest.raises(KubegateError) as err:
        diskspace.require_room(Path("/work/main"), ["kg-new-1", "kg-new-2"], images)
    msg = str(err.value)
    assert "\n" not in msg
    assert "has 0.5 GB free" in msg and "2 new image stores" in msg
    assert "(cd /tmp/old && kubegate down --purge) frees 6.0 GB" in msg


def test_existing_stores_need_no_room(images: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diskspace, "_docker", fake_docker({"kg-new-1": "/work/main"}))
    monkeypatch.setattr(diskspace.shutil, "disk_usage", lambda p: Usage(0, 0, 0))
    diskspace.require_room(Path("/work/main"), ["kg-new-1"], images)


def test_room_enough(images: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diskspace, "_docker", fake_docker({}))
    monkeypatch.setattr(diskspace.shutil, "disk_usage", lambda p: Usage(0, 0, 2 * GiB))
    diskspace.require_room(Path("/work/main"), ["kg-new-1", "kg-new-2", "kg-new-3"], images)
