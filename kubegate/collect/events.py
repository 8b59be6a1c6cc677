"""Namespace events in time order: `kubectl get events` sorts by name, which hides causality.

Newer events often have no lastTimestamp (they carry eventTime or a series instead), so
`--sort-by=.lastTimestamp` puts them first; the sort here takes the best time each has.
"""

from __future__ import annotations

import json
from typing import Any

from kubegate.collect.items import Item, kubectl_item


def _when(ev: dict[str, Any]) -> str:
    series = ev.get("series") or {}
    return str(series.get("lastObservedTime") or ev.get("lastTimestamp") or ev.get("eventTime")
               or ev.get("firstTimestamp") or ev.get("metadata", {}).get("creationTimestamp") or "")


def format_events(text: str) -> str:
    items = json.loads(text).get("items", [])
    rows = []
    for ev in sorted(items, key=_when):
        obj = ev.get("involvedObject") or ev.get("regarding") or {}
        count = (ev.get("series") or {}).get("count") or ev.get("count") or 1
        source = (ev.get("source") or {}).get("component") or ev.get("reportingComponent") or ""
        host = (ev.get("source") or {}).get("host") or ev.get("reportingInstance") or ""
        rows.append(f"{_when(ev)}  {ev.get('type', ''):7}  {ev.get('reason', ''):22}  "
                    f"{str(obj.get('kind', '')).lower()}/{obj.get('name', '')}  x{count}  "
                    f"[{source}{'@' + host if host else ''}]  {(ev.get('message') or '').strip()}")
    return "\n".join(rows) + "\n" if rows else "(no events)\n"


def events_item(namespace: str) -> Item:
    return kubectl_item(f"{namespace}/events.txt", f"{namespace}: events",
                        ["get", "events", "-n", namespace, "-o", "json"], transform=format_events)
