"""Every committed lock agrees with its manifest, and the rules catch each way of disagreeing."""

from __future__ import annotations

import json
from pathlib import Path

from kubegate.locks.catalog import MavenLock, NpmLock, PipLock
from kubegate.locks.check import maven_problems, npm_problems, pinned, pip_problems, problems
from kubegate.paths import assets as repo_root


def test_the_repository_s_locks_agree_with_their_manifests() -> None:
    assert problems(repo_root()) == []


def test_every_image_installs_from_its_lock_only() -> None:
    images = repo_root() / "cluster" / "workloads"
    client = (images / "client" / "Dockerfile").read_text()
    assert "npm ci" in client and "npm install" not in client
    assert client.count("--require-hashes") == 2
    assert "--require-hashes" in (images / "pulp" / "Dockerfile").read_text()
    assert "maven.lock" in (images / "msg" / "build.sh").read_text()


LOCK = """\
celery==5.7.0 \\
    --hash=sha256:aaa \\
    --hash=sha256:bbb
    # via -r requirements.in
vine==5.1.0
"""


def test_pinned_reads_versions_and_counts_hashes() -> None:
    assert pinned(LOCK) == {"celery": ("5.7.0", 2), "vine": ("5.1.0", 0)}


def test_a_pip_lock_that_drifted_from_its_source_is_named(tmp_path: Path) -> None:
    (tmp_path / "requirements.in").write_text("celery==5.8.0  # newer than the lock\nflask\n")
    (tmp_path / "requirements.txt").write_text(LOCK)
    found = pip_problems(tmp_path, PipLock("demo", "requirements.txt", ("requirements.in",)))
    assert any("pins celery==5.7.0, but 'celery==5.8.0' is asked for" in p for p in found)
    assert any("has no flask" in p for p in found)
    assert any("vine==5.1.0 has no --hash" in p for p in found)
    assert all(p.endswith("kubegate locks update") for p in found)


def test_pyproject_dependencies_and_build_system_are_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=99"]\n[project]\nname = "x"\ndependencies = ["celery>=5"]\n'
        '[project.optional-dependencies]\ndev = ["vine>6"]\n')
    (tmp_path / "lock.txt").write_text(LOCK.replace("vine==5.1.0", "vine==5.1.0 \\\n    --hash=sha256:c"))
    runtime = pip_problems(tmp_path, PipLock("rt", "lock.txt", ("pyproject.toml",), extras=("dev",)))
    assert runtime == ["lock.txt (rt) pins vine==5.1.0, but 'vine>6' is asked for; renew it with: kubegate locks "
                       "update"]
    build = pip_problems(tmp_path, PipLock("b", "lock.txt", ("pyproject.toml",), build_system=True))
    assert build and "has no setuptools" in build[0]


def test_an_npm_lock_that_lost_an_override_or_a_hash_is_named(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps(
        {"dependencies": {"mongosh": "2.12.0"}, "overrides": {"whatwg-url": "14.2.0"}}))
    (tmp_path / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": {
        "": {"dependencies": {"mongosh": "2.11.0"}},
        "node_modules/mongosh": {"version": "2.11.0", "integrity": "sha512-x"},
        "node_modules/a/node_modules/whatwg-url": {"version": "15.1.0", "integrity": "sha512-y"},
        "node_modules/b": {"version": "1.0.0"},
    }}))
    found = npm_problems(tmp_path, NpmLock("demo", "."))
    assert any("dependencies {'mongosh': '2.11.0'} differ" in p for p in found)
    assert any("overrides whatwg-url to 14.2.0, the lock has ['15.1.0']" in p for p in found)
    assert any("1 packages without an integrity hash (first: node_modules/b)" in p for p in found)


def test_a_maven_lock_line_without_a_digest_is_named(tmp_path: Path) -> None:
    (tmp_path / "maven.lock").write_text("# c\norg.apache.qpid:apache-qpid-broker-j:9.2.1:tar.gz:bin\n")
    assert maven_problems(tmp_path, MavenLock("m", "maven.lock"))
    (tmp_path / "maven.lock").write_text(f"org.apache.qpid:apache-qpid-broker-j:9.2.1:tar.gz:bin {'a' * 128}\n")
    assert maven_problems(tmp_path, MavenLock("m", "maven.lock")) == []
