"""Render the wrapper go.mod that lets `go build` compile Kubernetes outside its repo.

`k8s.io/kubernetes` requires its ~30 staging modules at v0.0.0 and satisfies them
with `replace` directives pointing into its own tree. Those replaces are ignored when
the module is a dependency, so a wrapper module must map each staging module to the
published `v0.<minor>.<patch>` tag, and copy upstream's `godebug` line so the binaries
behave as upstream's release builds do.
"""

from __future__ import annotations

import re

_STAGING_REQUIRE = re.compile(r"^\s*(?:require\s+)?(k8s\.io/[\w.\-/]+)\s+v0\.0\.0\s*(?://.*)?$")
_GODEBUG = re.compile(r"^godebug\s+.+$")


class GoModError(ValueError):
    """The upstream go.mod does not look like a Kubernetes release go.mod."""


def staging_modules(upstream_gomod: str) -> list[str]:
    """Module paths that upstream requires at the placeholder version v0.0.0."""
    mods = sorted({m.group(1) for line in upstream_gomod.splitlines() if (m := _STAGING_REQUIRE.match(line))})
    if not mods:
        raise GoModError("no k8s.io/* v0.0.0 requires found: is this k8s.io/kubernetes' go.mod?")
    return mods


def godebug_lines(upstream_gomod: str) -> list[str]:
    return [line.strip() for line in upstream_gomod.splitlines() if _GODEBUG.match(line.strip())]


def staging_version(kube_version: str) -> str:
    """v1.37.2 -> v0.37.2: the tag the staging modules are published under."""
    m = re.fullmatch(r"v1\.(\d+)\.(\d+)", kube_version)
    if not m:
        raise GoModError(f"kubernetes version must look like v1.37.2, got {kube_version!r}")
    return f"v0.{m.group(1)}.{m.group(2)}"


def render_wrapper_gomod(upstream_gomod: str, kube_version: str, module: str = "kubegate.local/kubebuild") -> str:
    """A go.mod requiring k8s.io/kubernetes at kube_version with every staging module pinned."""
    sv = staging_version(kube_version)
    go_line = next((line.strip() for line in upstream_gomod.splitlines() if line.startswith("go ")), "go 1.24.0")
    lines = [f"module {module}", "", go_line, ""]
    lines += godebug_lines(upstream_gomod)
    lines += ["", f"require k8s.io/kubernetes {kube_version}", "", "replace ("]
    lines += [f"\t{mod} => {mod} {sv}" for mod in staging_modules(upstream_gomod)]
    lines += [")", ""]
    return "\n".join(lines)
