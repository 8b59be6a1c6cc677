"""Scrub secrets from everything a bundle writes: bundles end up in CI artifacts.

Two layers, because neither is enough alone: the known values (the msg broker's
credentials, read from its Secret, and any Secret in the namespaces being collected) are
replaced wherever they appear, whatever the surrounding text; and password/token-looking
key-value pairs, URL user-info, bearer tokens and JWTs are replaced even when their value
was never known to us (a pod logging its own connection string).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote

from kubegate.collect.runner import Budget, Result, Runner

MASK = "***"
#: Shorter known values are only scrubbed when their key says they are secret: the broker's
#: user is "pulp", the same word as the namespace, and masking it would blank every name.
MIN_PLAIN_VALUE = 8
SECRET_KEY = re.compile(r"(?i)(pass(word|wd|phrase)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|cred)")
# Key names that contain a secret-sounding word but hold no secret themselves.
HARMLESS_KEY = re.compile(r"(?i)(name|ref|seconds|path|file|dir|type|mode|expiration|audience|length|count)$")

_KEY_VALUE = re.compile(
    r"(?i)(?P<key>\b[\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|credentials?)"
    r"[\w.-]*)(?P<sep>[\"']?\s*[:=]\s*[\"']?)(?!<set to the key)(?!\*\*\*)(?P<value>[^\s\"',;}\]]+)"
)
_FLAG_SPACE = re.compile(r"(?i)(?P<flag>--[\w-]*(?:password|token|secret)[\w-]*\s+)(?P<value>[^\s-][^\s]*)")
_URL_USERINFO = re.compile(r"(?i)\b(?P<head>[a-z][a-z0-9+.-]*://[^\s:/@]+:)(?P<value>[^\s/@]+)(?P<at>@)")
_BEARER = re.compile(r"(?i)\b(?P<head>bearer\s+)(?P<value>[A-Za-z0-9._~+/=-]{8,})")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")
_ENV_JSON = re.compile(
    r"(?i)(?P<head>\"name\"\s*:\s*\"[^\"]*(?:password|secret|token)[^\"]*\"\s*,\s*\"value\"\s*:\s*\")(?P<value>[^\"]*)"
)


class Redactor:
    def __init__(self, known: Iterable[tuple[str, str]] = ()) -> None:
        """`known` holds (key, value) pairs from Secrets; the key decides how short a value may be masked."""
        values: set[str] = set()
        for key, value in known:
            if not value or value.isspace():
                continue
            if len(value) < MIN_PLAIN_VALUE and not SECRET_KEY.search(key):
                continue
            values.add(value)
            values.add(quote(value, safe=""))
            if len(value) >= MIN_PLAIN_VALUE:
                values.add(base64.b64encode(value.encode()).decode())
        self._literals = sorted((v for v in values if len(v) >= 3), key=len, reverse=True)

    def add(self, key: str, value: str) -> None:
        merged = Redactor([(key, value)])
        self._literals = sorted(set(self._literals) | set(merged._literals), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._literals:
            text = text.replace(value, MASK)
        text = _URL_USERINFO.sub(lambda m: m["head"] + MASK + m["at"], text)
        text = _BEARER.sub(lambda m: m["head"] + MASK, text)
        text = _JWT.sub(MASK, text)
        text = _ENV_JSON.sub(lambda m: m["head"] + MASK, text)
        text = _FLAG_SPACE.sub(lambda m: m["flag"] + MASK, text)
        return _KEY_VALUE.sub(_mask_pair, text)


def _mask_pair(m: re.Match[str]) -> str:
    if HARMLESS_KEY.search(m["key"]):
        return m[0]
    return m["key"] + m["sep"] + MASK


def secret_pairs(result: Result) -> list[tuple[str, str]]:
    """(key, decoded value) from `kubectl get secret(s) -o json`; the output is never written anywhere."""
    if not result.ok:
        return []
    try:
        data = json.loads(result.stdout)
    except ValueError:
        return []
    items = data.get("items", [data]) if isinstance(data, dict) else []
    pairs: list[tuple[str, str]] = []
    for item in items:
        for key, encoded in (item.get("data") or {}).items():
            try:
                pairs.append((key, base64.b64decode(encoded).decode("utf-8", "replace")))
            except (ValueError, TypeError):
                continue
        pairs += [(k, str(v)) for k, v in (item.get("stringData") or {}).items()]
    return pairs


def known_secrets(runner: Runner, budget: Budget, services_namespace: str | None, secret: str,
                  namespaces: Iterable[str]) -> list[tuple[str, str]]:
    """The broker's credentials plus every Secret's values in the namespaces being collected."""
    pairs: list[tuple[str, str]] = []
    if services_namespace:
        pairs += secret_pairs(runner.kubectl(["get", "secret", secret, "-n", services_namespace, "-o", "json"],
                                             budget.timeout()))
    for ns in sorted(set(namespaces)):
        if budget.spent():
            break
        pairs += secret_pairs(runner.kubectl(["get", "secrets", "-n", ns, "-o", "json"], budget.timeout()))
    return pairs
