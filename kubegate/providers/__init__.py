"""Cluster providers: one abstract interface, one subclass per backend (pytest-kubernetes' pattern)."""

from __future__ import annotations

from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.providers.base import ClusterProvider

PROVIDERS = ("vagrant", "existing")


def make_provider(name: str, root: Path, *, kubeconfig: Path | None = None, context: str | None = None,
                  public_ip: str | None = None, image_registry: str | None = None) -> ClusterProvider:
    if name == "vagrant":
        from kubegate.providers.vagrant import VagrantProvider
        return VagrantProvider(root)
    if name == "existing":
        from kubegate.providers.existing import ExistingProvider
        if kubeconfig is None:
            raise KubegateError("--cluster=existing needs --kubeconfig PATH (and optionally --context, --public-ip)")
        return ExistingProvider(kubeconfig, context=context, public_ip=public_ip, image_registry=image_registry)
    raise KubegateError(f"unknown cluster provider {name!r}; choose one of: {', '.join(PROVIDERS)}")
