"""Node-level state from the minions: what kubelet and kube-proxy said, and the NAT rules.

Only where the provider has node shells (the Vagrant cluster). Bounded on the node itself
(`tail`/`head`), so a chatty kubelet cannot make a bundle of hundreds of megabytes.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from kubegate.collect.items import Item, node_item

JOURNAL_LINES = 2000
IPTABLES_LINES = 500
JOURNAL_SINCE = "-10min"


def journal_command() -> str:
    return (f"sudo -n journalctl -u kubelet -u kube-proxy --since {JOURNAL_SINCE} --no-pager -o short-iso "
            f"| tail -n {JOURNAL_LINES}")


def service_patterns(services: Iterable[tuple[str, str]]) -> list[str]:
    """kube-proxy tags each rule with a comment "<ns>/<svc>[:<port>]..."; matching the
    opening quote keeps "pulp/db" from also matching "xpulp/dbx"."""
    out: list[str] = []
    for ns, svc in sorted(set(services)):
        out += [f'"{ns}/{svc}:', f'"{ns}/{svc} ', f'"{ns}/{svc}"']
    return out


def iptables_command(patterns: list[str]) -> str:
    greps = " ".join(f"-e {shlex.quote(p)}" for p in patterns)
    return f"sudo -n iptables-save -t nat | grep -F {greps} | head -n {IPTABLES_LINES}; true"


def node_items(node: str, services: Iterable[tuple[str, str]]) -> list[Item]:
    items = [node_item(f"nodes/{node}/journal.txt", f"{node}: kubelet+kube-proxy journal", node, journal_command())]
    patterns = service_patterns(services)
    if patterns:
        items.append(node_item(f"nodes/{node}/iptables-nat.txt", f"{node}: iptables nat rules",
                               node, iptables_command(patterns), empty="(no rules matched)\n"))
    return items
