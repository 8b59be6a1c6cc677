"""One file of a bundle: the command that produces it and how to read its result.

Separating the description from the running lets the bundle run items in parallel under
one deadline, and lets tests check which commands a bundle would run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kubegate.collect.runner import Result


@dataclass(frozen=True)
class Item:
    relpath: str
    label: str
    #: ("kubectl", args...) or ("node", <node>, <command>)
    command: tuple[str, ...]
    #: a failed result that means "nothing to collect" (no previous container), not an error
    absent: Callable[[Result], bool] | None = None
    transform: Callable[[str], str] | None = None
    #: written instead of empty output, so an empty file is never mistaken for a failed copy
    empty: str = "(empty)\n"


def kubectl_item(relpath: str, label: str, args: Sequence[str], *, absent: Callable[[Result], bool] | None = None,
                 transform: Callable[[str], str] | None = None) -> Item:
    return Item(relpath, label, ("kubectl", *args), absent=absent, transform=transform)


def node_item(relpath: str, label: str, node: str, command: str, *, empty: str = "(empty)\n") -> Item:
    return Item(relpath, label, ("node", node, command), empty=empty)
