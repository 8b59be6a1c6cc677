"""The one way kubegate fills `${NAME}` placeholders into Kubernetes YAML (manifests/, the
add-ons, a suite's seed files): string.Template syntax (`$$` is a literal `$`), and every way it
can go wrong refused in one line naming the file and the fix: a name not in `known`, a value
missing for a name the text uses, a value given for no known name, a malformed placeholder,
and YAML that does not parse into Kubernetes objects after substitution."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from string import Template
from typing import Any

import yaml

from kubegate.errors import KubegateError


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def placeholders(text: str, known: Mapping[str, str], where: str = "<text>") -> set[str]:
    """The placeholder names `text` uses; a malformed `$...` raises KubegateError."""
    names: set[str] = set()
    for m in Template.pattern.finditer(text):
        if m.group("invalid") is not None:
            line = _line_of(text, m.start("invalid"))
            raise KubegateError(
                f"{where}:{line}: malformed placeholder near {text[m.start('invalid'):][:20]!r}; "
                "write ${NAME} with NAME one of " + ", ".join(known) + ", or $$ for a literal $"
            )
        name = m.group("named") or m.group("braced")
        if name:
            names.add(name)
    return names


def render(text: str, values: Mapping[str, str], known: Mapping[str, str], where: str = "<text>",
           check: Callable[[str, str, str], None] | None = None) -> str:
    """`text` with `values` substituted; `known` maps each allowed name to what it means (for
    messages); `check(name, value, where)` may refuse a value."""
    unknown_given = sorted(set(values) - set(known))
    if unknown_given:
        raise KubegateError(
            f"{where}: unknown placeholder value(s) {', '.join(unknown_given)}; known: {', '.join(known)}"
        )
    used = placeholders(text, known, where)
    unknown_used = sorted(used - set(known))
    if unknown_used:
        first = unknown_used[0]
        line = _line_of(text, text.find(f"${{{first}}}") if f"${{{first}}}" in text else text.find(f"${first}"))
        raise KubegateError(
            f"{where}:{line}: unknown placeholder ${{{first}}}"
            + (f" (and {', '.join(unknown_used[1:])})" if len(unknown_used) > 1 else "")
            + f"; use one of {', '.join(known)} or write $$ for a literal $"
        )
    missing = sorted(n for n in used if not values.get(n))
    if missing:
        hints = [f"{n} ({known[n]})" for n in missing]
        raise KubegateError(f"{where}: no value for {', '.join(hints)}; pass it (or set the env var named there)")
    if check is not None:
        for name in used:
            check(name, values[name], where)
    rendered = Template(text).substitute({n: values[n] for n in used})
    parse_objects(rendered, where)
    return rendered


def parse_objects(text: str, where: str) -> list[dict[str, Any]]:
    """The Kubernetes objects in YAML `text` (one or more documents)."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        fix = "fix the manifest's indentation/quoting"
        raise KubegateError(f"{where}{at}: malformed YAML ({problem}); {fix}") from None
    if not docs:
        raise KubegateError(f"{where}: no Kubernetes object in the file; add one (apiVersion, kind, metadata)")
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
            raise KubegateError(f"{where}: document {i + 1} is not a Kubernetes object; it needs apiVersion and kind")
    return docs
