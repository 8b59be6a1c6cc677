"""Load the Kubernetes manifests in `manifests/` and fill in their placeholders.

Manifests are plain YAML with `${NAME}` placeholders (string.Template syntax; `$$` is a literal
`$`). Only the names in PLACEHOLDERS exist; a manifest using another name, a value missing for a
name a manifest uses, an unknown name passed in, a malformed placeholder and YAML that does not
parse after substitution are all refused with a one-line KubegateError naming the file and the fix.

Images come from one setting each: KUBEGATE_DB_IMAGE and KUBEGATE_MSG_IMAGE override the images
kubegate builds (see manifests/README.md and values_from_env).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from string import Template
from typing import Any

import yaml

from kubegate.errors import KubegateError

MANIFESTS_DIR = Path(__file__).resolve().parents[2] / "manifests"

PLACEHOLDERS: dict[str, str] = {
    "NAMESPACE": "the namespace the objects go into",
    "DB_IMAGE": "the db container image (env KUBEGATE_DB_IMAGE overrides kubegate's FerretDB build)",
    "MSG_IMAGE": "the msg container image (env KUBEGATE_MSG_IMAGE overrides kubegate's Broker-J build)",
    "PULP_IMAGE": "the Pulp-shaped consumers' image (env KUBEGATE_PULP_IMAGE overrides kubegate's build)",
    "PUBLIC_IP": "the msg service's externalIP (the seed's publicIPs; default minion-1 10.245.1.3)",
    "PULL_POLICY": "imagePullPolicy of db and msg: Never on the local rig (images imported), "
                   "IfNotPresent on an existing cluster (pulled from its registry)",
}
PULL_POLICIES = ("Always", "IfNotPresent", "Never")

IMAGE_ENV = {"DB_IMAGE": "KUBEGATE_DB_IMAGE", "MSG_IMAGE": "KUBEGATE_MSG_IMAGE", "PULP_IMAGE": "KUBEGATE_PULP_IMAGE"}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# An image reference: no whitespace, quotes, or YAML/shell specials; registry/path:tag@digest shapes.
_IMAGE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:@+]*$")


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(MANIFESTS_DIR.parent))
    except ValueError:
        return str(path)


def manifest_path(name: str, directory: Path | None = None) -> Path:
    """`db-rc` or `db-rc.yaml` -> the file in `directory` (default: the repo's manifests/)."""
    directory = directory or MANIFESTS_DIR
    filename = name if name.endswith((".yaml", ".yml")) else f"{name}.yaml"
    path = directory / filename
    if "/" in name or not path.is_file():
        known = ", ".join(manifest_names(directory)) or "none"
        raise KubegateError(f"{_display(path)}: no such manifest; known manifests: {known}")
    return path


def manifest_names(directory: Path | None = None) -> list[str]:
    directory = directory or MANIFESTS_DIR
    return sorted(p.stem for p in directory.glob("*.yaml")) if directory.is_dir() else []


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def placeholders(text: str, where: str = "<text>") -> set[str]:
    """The placeholder names `text` uses; a malformed `$...` raises KubegateError."""
    names: set[str] = set()
    for m in Template.pattern.finditer(text):
        if m.group("invalid") is not None:
            line = _line_of(text, m.start("invalid"))
            raise KubegateError(
                f"{where}:{line}: malformed placeholder near {text[m.start('invalid'):][:20]!r}; "
                "write ${NAME} with NAME one of " + ", ".join(PLACEHOLDERS) + ", or $$ for a literal $"
            )
        name = m.group("named") or m.group("braced")
        if name:
            names.add(name)
    return names


def _check_value(name: str, value: str, where: str) -> None:
    fix = f"{where}: bad value for ${{{name}}}"
    if name == "NAMESPACE" and not _DNS_LABEL.match(value):
        raise KubegateError(f"{fix}: {value!r} is not a DNS-1123 label (lowercase letters, digits, '-')")
    if name == "PUBLIC_IP":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise KubegateError(f"{fix}: {value!r} is not an IP address") from None
    if name == "PULL_POLICY" and value not in PULL_POLICIES:
        raise KubegateError(f"{fix}: {value!r} is not one of {', '.join(PULL_POLICIES)}")
    if name in IMAGE_ENV and not _IMAGE_REF.match(value):
        raise KubegateError(f"{fix}: {value!r} is not an image reference; set {IMAGE_ENV[name]} to e.g. mongo:7")


def render_text(text: str, values: Mapping[str, str], where: str = "<text>") -> str:
    """Substitute `values` into manifest text, refusing unknown/missing placeholders and bad YAML."""
    unknown_given = sorted(set(values) - set(PLACEHOLDERS))
    if unknown_given:
        raise KubegateError(
            f"{where}: unknown placeholder value(s) {', '.join(unknown_given)}; known: {', '.join(PLACEHOLDERS)}"
        )
    used = placeholders(text, where)
    unknown_used = sorted(used - set(PLACEHOLDERS))
    if unknown_used:
        first = unknown_used[0]
        line = _line_of(text, text.find(f"${{{first}}}") if f"${{{first}}}" in text else text.find(f"${first}"))
        raise KubegateError(
            f"{where}:{line}: unknown placeholder ${{{first}}}"
            + (f" (and {', '.join(unknown_used[1:])})" if len(unknown_used) > 1 else "")
            + f"; use one of {', '.join(PLACEHOLDERS)} or write $$ for a literal $"
        )
    missing = sorted(n for n in used if not values.get(n))
    if missing:
        hints = [f"{n} ({PLACEHOLDERS[n]})" for n in missing]
        raise KubegateError(f"{where}: no value for {', '.join(hints)}; pass it (or set the env var named there)")
    for name in used:
        _check_value(name, values[name], where)
    rendered = Template(text).substitute({n: values[n] for n in used})
    _parse(rendered, where)
    return rendered


def _parse(text: str, where: str) -> list[dict[str, Any]]:
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


def render_manifest(name: str, values: Mapping[str, str], directory: Path | None = None) -> str:
    """The manifest's text with its placeholders filled in (ready for `kubectl apply -f -`)."""
    path = manifest_path(name, directory)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KubegateError(f"{_display(path)}: cannot read ({exc}); check the file") from None
    return render_text(text, values, _display(path))


def load_manifest(name: str, values: Mapping[str, str], directory: Path | None = None) -> list[dict[str, Any]]:
    """The manifest's objects, placeholders filled in."""
    path = manifest_path(name, directory)
    return _parse(render_manifest(name, values, directory), _display(path))


def values_from_env(
    *,
    namespace: str,
    public_ip: str,
    db_image: str,
    msg_image: str,
    pulp_image: str | None = None,
    pull_policy: str = "Never",
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Placeholder values, with KUBEGATE_DB_IMAGE / KUBEGATE_MSG_IMAGE overriding the built images."""
    env = os.environ if env is None else env
    values = {
        "NAMESPACE": namespace,
        "PUBLIC_IP": public_ip,
        "DB_IMAGE": env.get(IMAGE_ENV["DB_IMAGE"]) or db_image,
        "MSG_IMAGE": env.get(IMAGE_ENV["MSG_IMAGE"]) or msg_image,
        "PULL_POLICY": pull_policy,
    }
    pulp = env.get(IMAGE_ENV["PULP_IMAGE"]) or pulp_image
    if pulp:  # absent, a pulp-* manifest is refused naming the missing value
        values["PULP_IMAGE"] = pulp
    return values
