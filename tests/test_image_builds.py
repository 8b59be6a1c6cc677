"""Image builds side by side: every missing image is built once, the base first, and a failed
build is reported by name after the others have finished (none is left running)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kubegate.errors import KubegateError
from kubegate.rig.build import images


@dataclass
class FakeDocker:
    """Images by ref, and what the builds did: order started, how many ran at once, which ended."""

    built: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    running: int = 0
    peak: int = 0
    ended: set[str] = field(default_factory=set)
    fail: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def image_id(self, ref: str) -> str | None:
        return self.built.get(ref)

    def build(self, root: Path, name: str, ref: str, log_dir: Path) -> None:
        with self.lock:
            self.order.append(name)
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
            self.ended.add(name)
        if name in self.fail:
            raise KubegateError(f"building image {name} failed: boom")
        self.built[ref] = f"sha256:{name}"


@pytest.fixture
def docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeDocker:
    for name in [*(i.name for i in images.IMAGES), "debian"]:
        (tmp_path / "cluster" / "images" / name).mkdir(parents=True)
        (tmp_path / "cluster" / "images" / name / "build.sh").write_text(f"# {name}\n")
    (tmp_path / "kubegate" / "services" / "probes").mkdir(parents=True)
    fake = FakeDocker()
    monkeypatch.setattr(images, "image_id", fake.image_id)
    monkeypatch.setattr(images, "_build", fake.build)
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


def test_a_failed_build_is_named_after_the_others_finish(docker: FakeDocker, tmp_path: Path) -> None:
    docker.fail = {"msg", "pulp"}
    with pytest.raises(KubegateError, match="building image msg failed"):  # the first in IMAGES order
        images.ensure_images(tmp_path, tmp_path / "logs", workers=2)
    assert docker.running == 0
    assert docker.ended >= {i.name for i in images.IMAGES}
