"""Build Go server binaries from the module proxy into the cache, once per version.

No release tarball is reachable here, so Kubernetes and etcd are compiled from their
published modules. A wrapper module per target keeps the checkout free of Go state;
a stamp next to the binaries records what built them, so a rebuild happens only when
the version, flags or toolchain change (the Go build cache makes even that fast).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.paths import cache_dir
from kubegate.rig.build import logscan, proc
from kubegate.rig.build.gomod import render_wrapper_gomod
from kubegate.rig.build.proc import BuildFailed, Stop
from kubegate.rig.versions import Release, selected

KUBE_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")


@dataclass(frozen=True)
class GoTarget:
    """One module at one version and the main packages to build from it."""

    name: str
    version: str
    module: str
    packages: dict[str, str]  # binary name -> import path of its main package
    ldflags: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    gomod: Callable[[str], str] | None = field(default=None, compare=False)  # upstream go.mod -> wrapper go.mod
    tests: tuple[tuple[str, str], ...] = ()  # (binary, package) compiled with `go test -c` (upstream's e2e.test)
    cgo: bool = False  # runc's nsenter is C; everything else builds static without cgo

    @property
    def binaries(self) -> list[str]:
        return [*self.packages, *(b for b, _ in self.tests)]

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


def version_ldflags(version: str) -> tuple[str, ...]:
    """-X flags so `kubectl version` reports v1.37.N rather than v0.0.0-master."""
    major, minor = version.lstrip("v").split(".")[:2]  # as strings: they go into -X flags verbatim
    flags = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {pkg}.gitVersion={version}", f"-X {pkg}.gitMajor={major}",
                  f"-X {pkg}.gitMinor={minor}", f"-X {pkg}.gitTreeState=archive"]
    return tuple(flags)


def kubernetes_target(version: str | None = None) -> GoTarget:
    version = version or selected().kubernetes
    return GoTarget(
        name="kubernetes", version=version, module="k8s.io/kubernetes",
        # kubectl too: the client in skew with this server (kube/skew.py finds it), which a
        # machine's own kubectls may not be
        packages={b: f"k8s.io/kubernetes/cmd/{b}" for b in (*KUBE_BINARIES, "kubectl")},
        ldflags=version_ldflags(version),
        gomod=lambda upstream: render_wrapper_gomod(upstream, version),
    )


def e2e_target(release: Release | None = None) -> GoTarget:
    """Upstream's conformance judge from the same module: e2e.test, agnhost (most specs' pod
    image, stamped with the version that release's e2e.test asks for) and a kubectl of the
    server's version for the specs that drive kubectl."""
    release = release or selected()
    version = release.kubernetes
    return GoTarget(
        name="kubernetes-e2e", version=version, module="k8s.io/kubernetes",
        packages={"kubectl": "k8s.io/kubernetes/cmd/kubectl", "agnhost": "k8s.io/kubernetes/test/images/agnhost",
                  # runs e2e.test's specs in parallel processes, as hack/ginkgo-e2e.sh does
                  "ginkgo": "github.com/onsi/ginkgo/v2/ginkgo"},
        tests=(("e2e.test", "k8s.io/kubernetes/test/e2e"),),
        ldflags=(*version_ldflags(version), f"-X main.Version={release.agnhost}"),
        gomod=lambda upstream: render_wrapper_gomod(upstream, version),
    )


def etcd_target(version: str | None = None) -> GoTarget:
    version = version or selected().etcd
    return GoTarget(name="etcd", version=version, module="go.etcd.io/etcd/server/v3",
                    packages={"etcd": "go.etcd.io/etcd/server/v3"})


REGISTRY_VERSION = "v3.1.2"
CRANE_VERSION = "v0.22.1"


def registry_target(version: str = REGISTRY_VERSION) -> GoTarget:
    """The CNCF Distribution registry: the local rig's stand-in for a user's private registry."""
    return GoTarget(name="registry", version=version, module="github.com/distribution/distribution/v3",
                    packages={"registry": "github.com/distribution/distribution/v3/cmd/registry"})


def crane_target(version: str = CRANE_VERSION) -> GoTarget:
    """crane pushes `docker save` tars to any OCI registry with docker's credential lookup,
    so `kubegate images push` needs neither a daemon that trusts the registry nor our own client."""
    return GoTarget(name="crane", version=version, module="github.com/google/go-containerregistry",
                    packages={"crane": "github.com/google/go-containerregistry/cmd/crane"})


COREDNS_VERSION = "v1.15.0"
#: the minions' container runtime, built from its modules rather than taken from Debian
#: (containerd 1.6/1.7 are end of life): containerd's LTS line, the runc it is tested with,
#: the CNI plugins the node's conflist uses (cluster/provision/node.sh pins the same versions
#: for its download fallback; tests/test_runtime_versions.py keeps them equal)
CONTAINERD_VERSION = "v2.3.7"
RUNC_VERSION = "v1.5.3"
CNI_PLUGINS_VERSION = "v1.10.0"
CNI_PLUGINS = ("bridge", "host-local", "loopback", "portmap")


def coredns_target(version: str = COREDNS_VERSION) -> GoTarget:
    """Cluster DNS as upstream deploys it (kube-dns Service), compiled with its default plugins."""
    return GoTarget(name="coredns", version=version, module="github.com/coredns/coredns",
                    packages={"coredns": "github.com/coredns/coredns"})


def critools_target(version: str | None = None) -> GoTarget:
    """crictl, which every kubeadm or kind node carries for looking at the CRI directly."""
    version = version or selected().critools
    return GoTarget(name="cri-tools", version=version, module="sigs.k8s.io/cri-tools",
                    packages={"crictl": "sigs.k8s.io/cri-tools/cmd/crictl"})


#: MetalLB in L2 mode: the rig's LoadBalancer implementation (--public-ip-mode loadbalancer).
#: v0.16.2 is the newest served, but needs github.com/metallb/frr-k8s v0.0.27, whose zip the
#: proxy refuses (403); v0.15.2 builds from served modules only.
METALLB_VERSION = "v0.15.2"
METALLB_MODULE = "go.universe.tf/metallb"


def metallb_target(version: str = METALLB_VERSION) -> GoTarget:
    return GoTarget(name="metallb", version=version, module=METALLB_MODULE,
                    packages={b: f"{METALLB_MODULE}/{b}" for b in ("controller", "speaker")})


def module_dir(module: str, version: str) -> Path:
    """The module's source in Go's module cache (downloaded when missing): files a build does
    not compile but needs, such as MetalLB's own manifests."""
    proc = subprocess.run([_go(), "mod", "download", "-json", f"{module}@{version}"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise KubegateError(f"cannot fetch {module}@{version} from the Go module proxy: "
                            f"{(proc.stderr.strip() or proc.stdout.strip())[-300:]}")
    return Path(json.loads(proc.stdout)["Dir"])


def containerd_target(version: str = CONTAINERD_VERSION) -> GoTarget:
    """containerd 2, its runc shim and ctr, stamped as upstream's Makefile stamps them."""
    pkg = "github.com/containerd/containerd/v2"
    return GoTarget(name="containerd", version=version, module=pkg,
                    packages={b: f"{pkg}/cmd/{b}" for b in ("containerd", "containerd-shim-runc-v2", "ctr")},
                    ldflags=(f"-X {pkg}/version.Version={version}",
                             f"-X {pkg}/version.Package=github.com/containerd/containerd"),
                    tags=("urfave_cli_no_docs",))


def runc_target(version: str = RUNC_VERSION) -> GoTarget:
    """runc with seccomp (cgo, Debian's libseccomp-dev), as upstream's Makefile builds it minus the
    libpathrs tag: that Rust library has no Debian package, and runc falls back to pure Go."""
    return GoTarget(name="runc", version=version, module="github.com/opencontainers/runc",
                    packages={"runc": "github.com/opencontainers/runc"},
                    ldflags=(f"-X main.gitCommit={version}",), tags=("seccomp", "urfave_cli_no_docs"), cgo=True)


def cni_plugins_target(version: str = CNI_PLUGINS_VERSION) -> GoTarget:
    """The CNI plugins the nodes' conflist names, and loopback, which containerd's CRI needs."""
    base = "github.com/containernetworking/plugins"
    where = {"bridge": "main", "host-local": "ipam", "loopback": "main", "portmap": "meta"}
    return GoTarget(name="cni-plugins", version=version, module=base,
                    packages={p: f"{base}/plugins/{where[p]}/{p}" for p in CNI_PLUGINS},
                    ldflags=(f"-X {base}/pkg/utils/buildversion.BuildVersion={version}",))


def _go() -> str:
    go = shutil.which("go")
    if not go:
        raise KubegateError("go not found on PATH; run: bash cluster/host/setup.sh (it installs Go)")
    return go


MIN_GO = (1, 24)
FALLBACK_TOOLCHAIN = "go1.27.3"  # the toolchain the Go module proxy serves here


def go_env(cgo: bool = False) -> dict[str, str]:
    """Build environment; an old Go (e.g. Debian's) fetches a current toolchain via GOTOOLCHAIN."""
    env = {**os.environ, "CGO_ENABLED": "1" if cgo else "0", "GOFLAGS": "-buildvcs=false"}
    out = subprocess.run([_go(), "env", "GOVERSION"], capture_output=True, text=True, check=False).stdout
    parts = out.strip().removeprefix("go").split(".")
    try:
        version = (int(parts[0]), int(parts[1]))
    except (ValueError, IndexError):
        version = (0, 0)
    if version < MIN_GO and "GOTOOLCHAIN" not in os.environ:
        env["GOTOOLCHAIN"] = FALLBACK_TOOLCHAIN
    return env


def _run(cmd: list[str], cwd: Path, log: Path, stop: Stop | None = None, cgo: bool = False) -> None:
    with log.open("a") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
    rc = proc.run(cmd, log=log, stop=stop, cwd=cwd, env=go_env(cgo))
    if rc != 0:
        this_command = log.read_text(errors="replace").rsplit("\n$ ", 1)[-1]
        raise BuildFailed(f"{' '.join(cmd[1:3])} {cmd[-1]} failed: {logscan.first_error(this_command)}", log)


def describe(target: GoTarget) -> str:
    """`kubernetes v1.37.2: 812 packages compiled`: where a running build is, for progress lines."""
    if is_built(target):
        return f"{target.name} {target.version}: built"
    log = cache_dir() / "gowork" / target.key / "build.log"
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return f"{target.name} {target.version}: starting"
    last = text.rsplit("\n$ ", 1)[-1] if "\n$ " in text else text.removeprefix("$ ")
    command = last.split("\n", 1)[0].split(" ")
    if len(command) > 2 and command[1] in ("build", "test"):
        return f"{target.name} {target.version}: {logscan.go_packages(last)} packages compiled"
    return f"{target.name} {target.version}: go {command[1] if len(command) > 1 else '?'} (fetching modules)"


def _stamp(target: GoTarget, go_version: str) -> str:
    data = json.dumps([target.module, target.version, sorted(target.packages.items()),
                       target.ldflags, target.tags, go_version] + ([list(target.tests)] if target.tests else [])
                      + (["cgo"] if target.cgo else []))
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def bin_dir(target: GoTarget) -> Path:
    return cache_dir() / "bin" / target.key


def is_built(target: GoTarget) -> bool:
    out = bin_dir(target)
    stamp = out / ".stamp"
    return stamp.is_file() and all((out / b).is_file() for b in target.binaries)


def build(target: GoTarget, stop: Stop | None = None) -> Path:
    """Build (or reuse) the target's binaries; returns the folder holding them. A set `stop`
    kills the running go command (its build cache stays usable) and raises Cancelled."""
    out = bin_dir(target)
    go = _go()
    go_version = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()
    stamp = _stamp(target, go_version)
    if is_built(target) and (out / ".stamp").read_text().strip() == stamp:
        (out / ".version").write_text(target.version + "\n")
        return out
    work = cache_dir() / "gowork" / target.key
    work.mkdir(parents=True, exist_ok=True)
    log = work / "build.log"
    log.write_text("")
    if target.gomod is not None:
        upstream = _upstream_gomod(go, target, work, log)
        (work / "go.mod").write_text(target.gomod(upstream))
    elif not (work / "go.mod").is_file():
        (work / "go.mod").write_text(f"module kubegate.local/{target.name}build\n\ngo 1.24\n")
    # A tools file keeps `go mod tidy` from dropping the requirement on the target module.
    imports = "\n".join(f'\t_ "{p}"' for p in sorted({*target.packages.values(), *(p for _, p in target.tests)}))
    (work / "tools.go").write_text(f"//go:build tools\n\npackage build\n\nimport (\n{imports}\n)\n")
    _run([go, "get", f"{target.module}@{target.version}"], work, log, stop)
    _run([go, "mod", "tidy"], work, log, stop)
    out.mkdir(parents=True, exist_ok=True)
    flags = ["-trimpath", "-ldflags", " ".join(("-s", "-w", *target.ldflags))]
    if target.tags:
        flags += ["-tags", ",".join(target.tags)]
    if _one_invocation(target):
        # One `go build` for all of them: links (single-threaded each) overlap with each other
        # and with compiles, instead of five builds taking turns on two cores.
        # -v names each package as it is compiled: progress lines count them.
        _run([go, "build", "-v", *flags, "-o", f"{out}/", *target.packages.values()], work, log, stop, target.cgo)
    else:
        for binary, pkg in target.packages.items():
            _run([go, "build", "-v", *flags, "-o", str(out / binary), pkg], work, log, stop, target.cgo)
    for binary, pkg in target.tests:
        _run([go, "test", "-c", "-vet=off", *flags, "-o", str(out / binary), pkg], work, log, stop)
    (out / ".version").write_text(target.version + "\n")  # the module version, for scripts packaging these
    (out / ".stamp").write_text(stamp + "\n")
    return out


def _one_invocation(target: GoTarget) -> bool:
    """Whether `go build -o DIR/ PKGS...` names every binary as the target does: it uses the
    package path's last element (a `/vN` major-version suffix is skipped, so etcd's server/v3
    would come out as `server`)."""
    return len(target.packages) > 1 and all(pkg.rsplit("/", 1)[-1] == binary for binary, pkg in target.packages.items())


def _upstream_gomod(go: str, target: GoTarget, work: Path, log: Path) -> str:
    proc = subprocess.run([go, "mod", "download", "-json", f"{target.module}@{target.version}"],
                          cwd=work, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise KubegateError(f"cannot fetch {target.module}@{target.version} from the Go module proxy: "
                            f"{proc.stderr.strip().splitlines()[-1:] or proc.stdout[-200:]}")
    return Path(json.loads(proc.stdout)["GoMod"]).read_text()


TARGETS: dict[str, Callable[[], GoTarget]] = {
    "coredns": coredns_target, "cri-tools": critools_target, "kubernetes-e2e": e2e_target,
    "registry": registry_target, "crane": crane_target, "metallb": metallb_target,
}


def main(argv: list[str]) -> int:
    """`python3 -m kubegate.rig.build.gobuild NAME`: build (or reuse) NAME and print its folder,
    for image build scripts that package a binary (cluster/images/coredns/build.sh)."""
    import sys
    if len(argv) != 1 or argv[0] not in TARGETS:
        print(f"usage: python3 -m kubegate.rig.build.gobuild {{{','.join(TARGETS)}}}", file=sys.stderr)
        return 2
    try:
        print(build(TARGETS[argv[0]]()))
    except KubegateError as exc:
        print(f"kubegate: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
