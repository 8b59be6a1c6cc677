"""Run settings from pytest options and the environment, validated once at start-up.

A wrong option (unknown provider, missing kubeconfig) fails the run before any
collection with one line, instead of every test erroring with the same traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubegate.errors import KubegateError
from kubegate.kube import publicip
from kubegate.paths import STATE_ENV, cluster_dir, state_dir
from kubegate.providers import make_provider
from kubegate.providers.base import ClusterProvider
from kubegate.report.run import new_run_id
from kubegate.rig import versions
from kubegate.services.deploy import DEFAULT_NAMESPACE

DESTROY_POLICIES = ("never", "passing", "always")


@dataclass
class Settings:
    root: Path
    cluster: str
    kubeconfig: Path | None
    context: str | None
    public_ip: str | None
    image_registry: str | None
    destroy: str
    namespace: str
    run_id: str

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        kubeconfig = config.getoption("--kubeconfig")
        cluster = config.getoption("--cluster") or "vagrant"
        if config.getoption("--state-dir"):  # children (xdist workers, inner runs, kubectl helpers) inherit it
            os.environ[STATE_ENV] = str((config.invocation_params.dir / config.getoption("--state-dir")).resolve())
        root = state_dir(config.invocation_params.dir)
        os.environ.setdefault(STATE_ENV, str(root))
        if config.getoption("--kubernetes-version"):  # refused in one line before collection
            if cluster == "existing":
                raise KubegateError("--kubernetes-version chooses the local cluster's Kubernetes; an existing "
                                    "cluster runs what it runs (the report names its server version)")
            os.environ[versions.VERSION_ENV] = versions.resolve(config.getoption("--kubernetes-version")).kubernetes
        if config.getoption("--public-ip-mode"):  # children (xdist workers, manifests) read it from there
            os.environ[publicip.MODE_ENV] = config.getoption("--public-ip-mode")
        publicip.mode()  # a bad $KUBEGATE_PUBLIC_IP_MODE: one line before collection
        if cluster == "vagrant":  # xdist workers and ClusterSpec() in the suites see the same version
            versions.settle(cluster_dir(root))
        if cluster == "existing" and not kubeconfig:
            raise KubegateError("--cluster=existing needs --kubeconfig PATH")
        if kubeconfig and not Path(kubeconfig).is_file():
            raise KubegateError(f"--kubeconfig {kubeconfig}: no such file")
        if cluster == "existing":  # a wrong --context or a kubeconfig that is no YAML: one line, before collection
            make_provider(cluster, root, kubeconfig=Path(kubeconfig),
                          context=config.getoption("--context"), image_registry=config.getoption("--image-registry"))
        elif config.getoption("--image-registry"):
            raise KubegateError("--image-registry is for --cluster=existing (the local rig imports its images)")
        run_id = os.environ.get("KUBEGATE_RUN_ID") or _run_id(config)
        return cls(
            root=root,
            cluster=cluster,
            kubeconfig=Path(kubeconfig).resolve() if kubeconfig else None,
            context=config.getoption("--context"),
            public_ip=config.getoption("--public-ip"),
            image_registry=config.getoption("--image-registry"),
            destroy=config.getoption("--destroy"),
            namespace=config.getoption("--namespace") or os.environ.get("KUBEGATE_NAMESPACE", DEFAULT_NAMESPACE),
            run_id=run_id,
        )

    def provider(self) -> ClusterProvider:
        return make_provider(self.cluster, self.root, kubeconfig=self.kubeconfig, context=self.context,
                             public_ip=self.public_ip, image_registry=self.image_registry)

    def run_marker(self, kind: str) -> Path:
        """`.cluster/<kind>-<run-id>`: work done once this run (RUN_MARKERS lists the kinds)."""
        return cluster_dir(self.root) / f"{kind}-{self.run_id}"

    def deployed_marker(self) -> Path:
        """Written by the services fixture; later xdist workers of this run read the deployment back."""
        return cluster_dir(self.root) / f"deployed-{self.run_id}"

    def used_marker(self) -> Path:
        """Written by the cluster fixture; tells the controller a cluster was used this run."""
        return cluster_dir(self.root) / f"used-{self.run_id}"


def _run_id(config: pytest.Config) -> str:
    """Shared by xdist workers: the controller's id travels in workerinput."""
    worker = getattr(config, "workerinput", None)
    if worker and "kubegate_run_id" in worker:
        return str(worker["kubegate_run_id"])
    rid = new_run_id()
    os.environ["KUBEGATE_RUN_ID"] = rid  # inherited by xdist workers
    return rid


settings_key = pytest.StashKey[Settings]()
