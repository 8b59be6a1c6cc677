"""The wrapper go.mod that builds Kubernetes outside its repo."""

import pytest

from kubegate.rig.build.gobuild import kubernetes_target, version_ldflags
from kubegate.rig.build.gomod import GoModError, render_wrapper_gomod, staging_modules, staging_version

UPSTREAM = """module k8s.io/kubernetes

go 1.24.0

godebug default=go1.24

require (
\tgithub.com/blang/semver/v4 v4.0.0
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
\tk8s.io/kube-openapi v0.0.0-20250710124328-f3f2b991d03b
\tk8s.io/kubelet v0.0.0
)

require k8s.io/cri-api v0.0.0 // indirect

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
)
"""


def test_staging_modules_are_the_v0_0_0_requires_only() -> None:
    assert staging_modules(UPSTREAM) == ["k8s.io/api", "k8s.io/client-go", "k8s.io/cri-api", "k8s.io/kubelet"]


def test_wrapper_pins_each_staging_module_and_keeps_godebug() -> None:
    out = render_wrapper_gomod(UPSTREAM, "v1.34.4")
    assert "require k8s.io/kubernetes v1.34.4" in out
    assert "\tk8s.io/client-go => k8s.io/client-go v0.34.4" in out
    assert "godebug default=go1.24" in out
    assert "go 1.24.0" in out
    assert "./staging" not in out  # upstream's local replaces cannot work from the module cache
    assert "kube-openapi =>" not in out


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(GoModError):
        staging_version("1.34")
    with pytest.raises(GoModError):
        staging_modules("module example.com/x\n")


def test_version_ldflags_set_both_version_packages() -> None:
    flags = " ".join(version_ldflags("v1.34.4"))
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {pkg}.gitVersion=v1.34.4" in flags
        assert f"-X {pkg}.gitMinor=34" in flags


def test_kubernetes_target_builds_the_five_server_binaries_and_a_kubectl_in_skew() -> None:
    t = kubernetes_target("v1.37.2")
    assert sorted(t.packages) == ["kube-apiserver", "kube-controller-manager", "kube-proxy", "kube-scheduler",
                                  "kubectl", "kubelet"]


def test_one_go_build_only_where_go_names_the_binaries_as_the_target_does() -> None:
    from kubegate.rig.build.gobuild import _one_invocation, e2e_target, etcd_target
    assert _one_invocation(kubernetes_target("v1.34.4"))
    assert _one_invocation(e2e_target())  # kubectl, agnhost, ginkgo (.../ginkgo/v2/ginkgo)
    assert not _one_invocation(etcd_target())  # one package, and go would name it `server` (…/server/v3)
