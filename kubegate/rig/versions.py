"""Which Kubernetes the local cluster runs: the supported minors and what each is built with.

A release gate is worth what the cluster it proves resembles, so kubegate serves the minors
upstream supports today and nothing older. Each minor is pinned to its newest patch the Go
module proxy serves, and to the etcd, crictl and agnhost that patch's own
`build/dependencies.yaml` and `test/utils/image/manifest.go` name (where the proxy lacks that
exact version, the nearest served one, said so below). The choice travels in one environment
variable, so the CLI, pytest, xdist workers and image build scripts all see the same version.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from kubegate.errors import KubegateError

VERSION_ENV = "KUBEGATE_KUBERNETES_VERSION"


@dataclass(frozen=True)
class Release:
    """One Kubernetes version and the parts built to match it."""

    kubernetes: str  # v1.37.2
    etcd: str
    critools: str
    agnhost: str  # the tag e2e.test asks for: registry.k8s.io/e2e-test-images/agnhost:<it>

    @property
    def minor(self) -> str:
        """'1.37' for v1.37.2."""
        return ".".join(self.kubernetes.lstrip("v").split(".")[:2])

    @property
    def major_minor(self) -> tuple[int, int]:
        major, minor = self.minor.split(".")
        return int(major), int(minor)


#: newest first. etcd: 1.35 names 3.6.6, which the proxy does not serve (3.6.5, 3.6.8 are):
#: 3.6.8, the next patch of the same minor. crictl: the proxy serves cri-tools v1.34.0 and
#: v1.37.0 only; 1.35's dependencies.yaml names 1.34.0 (served), 1.36's names 1.35.0 and 1.37's
#: 1.36.0 (neither served): both get v1.37.0, which speaks the same CRI v1 API.
RELEASES = (
    Release("v1.37.2", etcd="v3.7.0", critools="v1.37.0", agnhost="2.66.1"),
    Release("v1.36.3", etcd="v3.6.8", critools="v1.37.0", agnhost="2.63.0"),
    Release("v1.35.4", etcd="v3.6.8", critools="v1.34.0", agnhost="2.59"),
)
DEFAULT = RELEASES[0]
#: where a bring-up records the version it brought up, under the state's .cluster/
RUNNING_FILE = "kubernetes-version"


def supported() -> str:
    return ", ".join(f"{r.minor} ({r.kubernetes})" for r in RELEASES)


def resolve(asked: str) -> Release:
    """'1.36', 'v1.36', '1.36.3' or 'v1.36.3' -> its Release; anything else is refused in one line
    that lists what is served. Another patch of a supported minor is taken with that minor's parts."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?", asked.strip())
    if not m:
        raise KubegateError(f"--kubernetes-version {asked!r}: give a minor (1.36) or a version (v1.36.3); "
                            f"supported: {supported()}")
    minor = f"{m[1]}.{m[2]}"
    release = next((r for r in RELEASES if r.minor == minor), None)
    if release is None:
        newest, oldest = RELEASES[0].major_minor, RELEASES[-1].major_minor
        why = ("is out of upstream support" if (int(m[1]), int(m[2])) < oldest
               else "is not released" if (int(m[1]), int(m[2])) > newest else "is not served")
        raise KubegateError(f"Kubernetes {minor} {why}; kubegate serves {supported()} "
                            f"(--kubernetes-version or {VERSION_ENV})")
    if m[3] is None or f"v{minor}.{m[3]}" == release.kubernetes:
        return release
    return replace(release, kubernetes=f"v{minor}.{m[3]}")


#: KEP-5707: spec.externalIPs deprecated (the API warns on each write) from this minor on
EXTERNAL_IPS_DEPRECATED = (1, 36)
EXTERNAL_IPS_PLAN = ("spec.externalIPs is deprecated since Kubernetes 1.36 (KEP-5707; the API warns on every write); "
                     "the AllowServiceExternalIPs gate is planned off by default from 1.40 and the field's removal "
                     "later: move publicIPs to type: LoadBalancer")


def server_notices(major: str, minor: str, external_ips: bool = True) -> dict[str, str]:
    """Report facts about a server's version: whether kubegate supports its minor (a warning,
    never a failure, on a cluster of the user's) and, where the publicIPs are externalIPs, their
    deprecation from 1.36."""
    try:
        mm = (int(major), int(minor.rstrip("+")))
    except ValueError:
        return {"server version support": f"WARNING: the server reports version {major}.{minor}, not a release"}
    out = {}
    if f"{mm[0]}.{mm[1]}" not in {r.minor for r in RELEASES}:
        out["server version support"] = (f"WARNING: Kubernetes {mm[0]}.{mm[1]} is not a minor upstream supports "
                                         f"today; kubegate's verdict is for {supported()}")
    if external_ips and mm >= EXTERNAL_IPS_DEPRECATED:
        out["publicIPs"] = f"publicIPs through deprecated externalIPs: {EXTERNAL_IPS_PLAN}"
    return out


def asked() -> Release | None:
    """The version asked for in this process (option or environment), if any."""
    value = os.environ.get(VERSION_ENV, "").strip()
    return resolve(value) if value else None


def running(cluster: Path) -> str | None:
    """The version the local cluster under `cluster` (a state's .cluster/) was brought up with."""
    try:
        return (cluster / RUNNING_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def selected() -> Release:
    """What to build and expect in this process: the version settled or asked for, else the default."""
    return asked() or DEFAULT


def settle(cluster: Path) -> Release:
    """The local cluster's version for this process and its children: the one asked for, else the
    one the running cluster was brought up with, else the default; exported so that xdist workers,
    ClusterSpec() in the suites and the build scripts agree."""
    release = asked()
    if release is None:
        now = running(cluster)
        release = _served_or_none(now) or DEFAULT
    os.environ[VERSION_ENV] = release.kubernetes
    return release


def check_running(cluster: Path, release: Release) -> None:
    """Refuse to bring a cluster of another version up in place: etcd's data and the nodes' state
    do not go back a minor, and skipping minors is no upgrade upstream supports."""
    now = running(cluster)
    if now is not None and now != release.kubernetes:
        raise KubegateError(f"the local cluster runs Kubernetes {now}, not {release.kubernetes}: run `kubegate down`, "
                            f"then `kubegate up --kubernetes-version {release.minor}`")


def record(cluster: Path, release: Release | None) -> None:
    """Remember what a bring-up brought up (None: the cluster is gone)."""
    path = cluster / RUNNING_FILE
    if release is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(release.kubernetes + "\n")


def _served_or_none(version: str | None) -> Release | None:
    if version is None:
        return None
    try:
        return resolve(version)
    except KubegateError:
        return None  # a version this kubegate no longer serves: check_running names it
