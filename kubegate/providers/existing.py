"""A cluster the user already has: kubeconfig (+ context) in, nothing created or destroyed.

Nightly jobs point kubegate at their own clusters this way; suites that need node shells
(Vagrant) skip with a reason instead of failing.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from kubegate.errors import KubegateError
from kubegate.kube import topology
from kubegate.paths import assets
from kubegate.providers.base import ClusterProvider, ClusterStatus
from kubegate.registry import creds
from kubegate.registry.refs import registry_refs, split_registry

IMAGE_NAMES = ("db", "msg", "client", "pulp")
#: Public images that behave like ours; the msg broker and the client (which ships
#: kubegate-probe) exist only as kubegate's own builds, so they have no default.
PUBLIC_DEFAULTS = {"db": "docker.io/library/mongo:7"}


#: the environment twin of --image-registry, inherited by xdist workers
REGISTRY_ENV = "KUBEGATE_IMAGE_REGISTRY"


def image_env(name: str) -> str:
    return f"KUBEGATE_{name.upper()}_IMAGE"


class MissingImage(KubegateError, KeyError):
    """Raised by indexing the image map for an image this cluster has no reference for.

    An error, never a skip: a gate that skips every test needing the broker has checked
    nothing about it. The message names what to set.
    """

    def __init__(self, name: str) -> None:
        self.image = name
        self.reason = (f"no {name} image reference for this cluster: pass --image-registry REGISTRY[/PREFIX] "
                       f"(after `kubegate images push` there) or set {image_env(name)} to an image its nodes can run")
        super().__init__(self.reason)

    def __str__(self) -> str:
        return self.reason


class ImageRefs(dict[str, str]):
    """`refs["msg"]` raises MissingImage when unset; `refs.get("msg")` still returns None."""

    def __missing__(self, key: str) -> str:
        raise MissingImage(key)


def contexts_of(kubeconfig: Path) -> list[str]:
    try:
        data = yaml.safe_load(kubeconfig.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KubegateError(f"kubeconfig {kubeconfig} cannot be read as YAML: {exc}") from None
    return [str(c.get("name")) for c in data.get("contexts") or [] if isinstance(c, dict)]


class ExistingProvider(ClusterProvider):
    name = "existing"

    def __init__(self, kubeconfig: Path, *, context: str | None = None, public_ip: str | None = None,
                 image_registry: str | None = None) -> None:
        if not kubeconfig.is_file():
            raise KubegateError(f"kubeconfig {kubeconfig} does not exist; pass --kubeconfig PATH to a readable file")
        self._kubeconfig = kubeconfig.resolve()
        self._context = context
        if context:
            known = contexts_of(self._kubeconfig)
            if context not in known:
                raise KubegateError(f"--context {context} is not in {self._kubeconfig} "
                                    f"(its contexts: {', '.join(known) or 'none'})")
        self._public_ip = public_ip
        self._image_registry = image_registry or os.environ.get(REGISTRY_ENV) or None
        # A malformed value is one line now, not an error in every test.
        self._registry_host = split_registry(self._image_registry)[0] if self._image_registry else None

    @property
    def kubeconfig(self) -> Path:
        return self._kubeconfig

    @property
    def context(self) -> str | None:
        return self._context

    @property
    def public_ip(self) -> str:
        if not self._public_ip:
            raise KubegateError("no public IP for externalIPs; pass --public-ip ADDR (a node address of your cluster)")
        return self._public_ip

    def images(self) -> dict[str, str]:
        """References from KUBEGATE_<NAME>_IMAGE, else derived from --image-registry (what
        `kubegate images push` wrote there), else a public default; a test needing an image
        with none of them errors naming the fix (see MissingImage)."""
        refs = ImageRefs()
        pushed = registry_refs(assets(), self._image_registry) if self._image_registry else {}
        for name in IMAGE_NAMES:
            ref = os.environ.get(image_env(name)) or pushed.get(name) or PUBLIC_DEFAULTS.get(name)
            if ref:
                refs[name] = ref
        return refs

    @property
    def image_registry_host(self) -> str | None:
        return self._registry_host

    def namespace_manifest(self, namespace: str) -> str:
        return creds.pull_manifest(self._registry_host, namespace)

    def up(self) -> None:
        st = self.status()
        if not st.healthy:
            raise KubegateError(f"existing cluster is not usable: {st.summary}")

    def down(self, purge: bool = False) -> None:
        """Never destroys a cluster it did not create."""

    def status(self) -> ClusterStatus:
        try:
            nodes = topology.read_nodes(self.kubectl())
        except KubegateError as exc:
            return ClusterStatus(False, str(exc))
        ready = [n["metadata"]["name"] for n in nodes if topology.is_ready(n)]
        return ClusterStatus(bool(ready), f"{len(ready)}/{len(nodes)} nodes Ready", ready_nodes=ready)
