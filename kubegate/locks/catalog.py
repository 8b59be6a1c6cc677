"""Where each lock lives and what it is generated from: the one list `check` and `update` read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NpmLock:
    """package.json + package-lock.json in one folder, installed with `npm ci`."""

    name: str
    folder: str  # relative to the checkout


@dataclass(frozen=True)
class PipLock:
    """A hash-locked requirements file compiled from `sources` (requirements .in files, or
    pyproject.toml with `extras`), installed with `pip install --require-hashes`."""

    name: str
    lock: str
    sources: tuple[str, ...]
    extras: tuple[str, ...] = ()
    constraint: str | None = None  # another lock whose versions this one must agree with
    build_system: bool = False  # the sources' [build-system] requires, not their dependencies


@dataclass(frozen=True)
class MavenLock:
    """`GROUP:ARTIFACT:VERSION:EXT:CLASSIFIER SHA512` lines; build.sh refuses any other digest."""

    name: str
    lock: str


Lock = NpmLock | PipLock | MavenLock

LOCKS: tuple[Lock, ...] = (
    PipLock("host package", "cluster/host/requirements.txt", ("pyproject.toml",),
            extras=("suites", "xdist", "reruns", "dev")),
    PipLock("host package build", "cluster/host/build-requirements.txt", ("pyproject.toml",),
            constraint="cluster/host/requirements.txt", build_system=True),
    NpmLock("mongosh (client image and host)", "cluster/workloads/client/mongosh"),
    PipLock("client image", "cluster/workloads/client/requirements.txt", ("cluster/workloads/client/requirements.in",)),
    PipLock("client image build", "cluster/workloads/client/build-requirements.txt",
            ("cluster/workloads/client/build-requirements.in",),
            constraint="cluster/workloads/client/requirements.txt"),
    PipLock("pulp image", "cluster/workloads/pulp/requirements.txt", ("cluster/workloads/pulp/requirements.in",)),
    MavenLock("msg image (Broker-J)", "cluster/workloads/msg/maven.lock"),
)

