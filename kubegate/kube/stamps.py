"""Manifest digests stamped on the objects applied from them.

`kubectl apply` of an unchanged manifest changes nothing in the cluster but still costs a
kubectl process and a round trip per call; a warm run would pay a dozen of them to learn
nothing. Stamping the digest of what was applied on each object lets one `kubectl get`
answer "is this exactly what we would apply now?".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from kubegate.kube import objects

DIGEST_ANNOTATION = "kubegate.io/manifest-digest"


def digest(texts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for text in texts:
        h.update(text.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def digest_of(docs: Iterable[dict[str, Any]]) -> str:
    """The digest of parsed objects (key order does not count)."""
    return digest(json.dumps(d, sort_keys=True) for d in docs)


def stamp(docs: Iterable[dict[str, Any]], value: str) -> list[dict[str, Any]]:
    """The objects with the digest annotation set on each (in place; returned for chaining)."""
    out = list(docs)
    for doc in out:
        doc.setdefault("metadata", {}).setdefault("annotations", {})[DIGEST_ANNOTATION] = value
    return out


def stamped(docs: Iterable[dict[str, Any]], value: str) -> str:
    """The `kubectl apply -f -` input for `docs`, each stamped with `value`."""
    return json.dumps(objects.object_list(stamp(docs, value)))


def carries(obj: dict[str, Any], value: str) -> bool:
    return bool((obj.get("metadata", {}).get("annotations") or {}).get(DIGEST_ANNOTATION) == value)
