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
from typing import Any

from kubegate.errors import KubegateError
from kubegate.kube import publicip, templates
from kubegate.paths import assets

MANIFESTS_DIR = assets() / "manifests"

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


def placeholders(text: str, where: str = "<text>") -> set[str]:
    """The placeholder names `text` uses; a malformed `$...` raises KubegateError."""
    return templates.placeholders(text, PLACEHOLDERS, where)


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
    """Substitute `values` into manifest text, refusing unknown/missing placeholders, bad values and bad YAML."""
    return templates.render(text, values, PLACEHOLDERS, where, check=_check_value)


def _parse(text: str, where: str) -> list[dict[str, Any]]:
    return templates.parse_objects(text, where)


def render_manifest(name: str, values: Mapping[str, str], directory: Path | None = None) -> str:
    """The manifest's text with its placeholders filled in (ready for `kubectl apply -f -`)."""
    path = manifest_path(name, directory)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KubegateError(f"{_display(path)}: cannot read ({exc}); check the file") from None
    return render_text(text, values, _display(path))


def load_manifest(name: str, values: Mapping[str, str], directory: Path | None = None) -> list[dict[str, Any]]:
    """The manifest's objects, placeholders filled in, publicIPs made as the mode asks (services/publicip.py)."""
    path = manifest_path(name, directory)
    return publicip.shape(_parse(render_manifest(name, values, directory), _display(path)))


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
