"""`kubectl describe` and object listings: the first thing anyone runs on a failure.

Secrets are never among them: `describe` of pods and Services shows only which Secret a
value comes from, and Endpoints/EndpointSlices carry addresses, not data.
"""

from __future__ import annotations

from kubegate.collect.items import Item, kubectl_item


def namespace_items(namespace: str, selector: str | None) -> list[Item]:
    sel = ["-l", selector] if selector else []
    d = namespace
    return [
        kubectl_item(f"{d}/pods.txt", f"{d}: pods", ["get", "pods", "-n", namespace, *sel, "-o", "wide"]),
        kubectl_item(f"{d}/services.describe.txt", f"{d}: Services",
                     ["describe", "services", "-n", namespace]),
        # v1 Endpoints is deprecated since 1.33 but still what older tooling and people read.
        kubectl_item(f"{d}/endpoints.yaml", f"{d}: Endpoints", ["get", "endpoints", "-n", namespace, "-o", "yaml"]),
        kubectl_item(f"{d}/endpointslices.yaml", f"{d}: EndpointSlices",
                     ["get", "endpointslices", "-n", namespace, "-o", "yaml"]),
    ]


def pod_items(namespace: str, pod: str) -> list[Item]:
    return [kubectl_item(f"{namespace}/pod-{pod}.describe.txt", f"{namespace}/{pod}: describe",
                         ["describe", "pod", pod, "-n", namespace])]
