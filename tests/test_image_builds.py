"""Image builds side by side: every missing image is built once, the base first, and the first
failed build stops the others at once and is the one reported (none is left running)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kubegate.errors import KubegateError
from kubegate.rig.build import images
from kubegate.rig.build.proc import Cancelled, Stop


@dataclass
class FakeDocker:
    """Images by ref, and what the builds did: order started, how many ran at once, which ended."""

    built: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    running: int = 0
    peak: int = 0
    ended: set[str] = field(default_factory=set)
    fail: set[str] = field(default_factory=set)
    stopped: set[str] = field(default_factory=set)
    seconds: float = 0.05
    no_cache: list[bool] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def image_id(self, ref: str) -> str | None:
        return self.built.get(ref)

    def build(self, root: Path, name: str, ref: str, log_dir: Path, stop: Stop, no_cache: bool = False,
              running: object = None) -> None:
        with self.lock:
            self.order.append(name)
            self.no_cache.append(no_cache)
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            if name in self.fail:
                time.sleep(0.05)
                raise KubegateError(f"building image {name} failed: boom")
            deadline = time.monotonic() + self.seconds
            while time.monotonic() < deadline:
                if stop.is_set():
                    self.stopped.add(name)
                    stop.check()
                time.sleep(0.01)
            self.built[ref] = f"sha256:{name}"
        finally:
            with self.lock:
                self.running -= 1
                self.ended.add(name)


@pytest.fixture
def docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeDocker:
    for image in [*images.IMAGES, images.BASE]:
        image.folder(tmp_path).mkdir(parents=True)
        (image.folder(tmp_path) / "build.sh").write_text(f"# {image.name}\n")
    (tmp_path / "kubegate" / "services" / "probes").mkdir(parents=True)
    fake = FakeDocker()
    monkeypatch.setattr(images, "image_id", fake.image_id)
    monkeypatch.setattr(images, "_build", fake.build)
    monkeypatch.setattr(images, "record_debian_packages", lambda ref: None)
    monkeypatch.setattr(images, "prune_replaced", lambda: None)
    return fake


def test_base_first_then_the_rest_side_by_side(docker: FakeDocker, tmp_path: Path) -> None:
    refs = images.ensure_images(tmp_path, tmp_path / "logs", workers=4)
    assert docker.order[0] == "debian"
    assert sorted(docker.order[1:]) == sorted(i.name for i in images.IMAGES)
    assert docker.peak == 4
    assert set(refs) == {i.name for i in images.IMAGES}


def test_present_images_are_not_rebuilt(docker: FakeDocker, tmp_path: Path) -> None:
    images.ensure_images(tmp_path, tmp_path / "logs")
    docker.order.clear()
    images.ensure_images(tmp_path, tmp_path / "logs")
    assert docker.order == []


def test_the_first_failure_stops_the_other_builds_at_once(docker: FakeDocker, tmp_path: Path) -> None:
    docker.fail, docker.seconds = {"db"}, 30.0
    docker.built[images.BASE_REF] = "sha256:base"
    started = time.monotonic()
    with pytest.raises(KubegateError, match="building image db failed") as info:
        images.ensure_images(tmp_path, tmp_path / "logs", workers=4)
    assert not isinstance(info.value, Cancelled)
    assert time.monotonic() - started < 5  # not the 30 s the other builds would have taken
    assert docker.running == 0
    assert docker.stopped == {i.name for i in images.IMAGES} - {"db"}  # queued ones stop before they start
    assert list(docker.built) == [images.BASE_REF]


def test_no_cache_rebuilds_every_image_and_the_base(docker: FakeDocker, tmp_path: Path) -> None:
    images.ensure_images(tmp_path, tmp_path / "logs")
    docker.order.clear()
    images.ensure_images(tmp_path, tmp_path / "logs", no_cache=True)
    assert sorted(docker.order) == sorted(["debian", *(i.name for i in images.IMAGES)])
    assert docker.no_cache[-len(docker.order):] == [True] * len(docker.order)
