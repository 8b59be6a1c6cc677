"""kubegate down stops only an engine kubegate started (the host-touching part is proven by hand
and in CI's `kubegate down --purge`; here, the decisions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubegate.rig import engine


def test_an_engine_kubegate_did_not_start_is_left_alone(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(engine, "STATE", tmp_path)
    assert engine.stop_if_ours() == "Docker Engine left running (kubegate did not start it)"


def test_an_engine_with_other_containers_is_left_alone(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "started").write_text("999999\n")
    monkeypatch.setattr(engine, "STATE", tmp_path)

    class Ps:
        returncode, stdout = 0, "3f2a1c\n"

    monkeypatch.setattr(engine.subprocess, "run", lambda *a, **k: Ps())
    assert engine.stop_if_ours() == "Docker Engine left running (it still has containers)"
    assert (tmp_path / "started").is_file()
