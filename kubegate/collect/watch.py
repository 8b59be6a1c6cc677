"""What a failing test involves: watches declared by tests and fixtures.

A test knows which namespace and pods it exercises; the failure hook does not. A watch is
owned either by one test (registered from a function-scoped request) or by a fixture of
broader scope, in which case it covers every test that uses that fixture, for as long as the
fixture lives. The registry is per process, which is what xdist needs: each worker collects
for the tests it ran.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Watch:
    namespace: str
    #: a label selector for the pods involved; None means every pod in the namespace
    selector: str | None = None
    #: Service names whose kube-proxy rules to grep; empty means every Service in the namespace
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    watch: Watch
    nodeid: str | None
    fixture: str | None


class Watches:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []

    def add(self, watch: Watch, *, nodeid: str | None = None, fixture: str | None = None) -> None:
        with self._lock:
            self._entries.append(_Entry(watch, nodeid, fixture))

    def remove(self, watch: Watch, *, nodeid: str | None = None, fixture: str | None = None) -> None:
        with self._lock:
            entry = _Entry(watch, nodeid, fixture)
            if entry in self._entries:
                self._entries.remove(entry)

    def forget_namespace(self, namespace: str) -> None:
        with self._lock:
            self._entries = [e for e in self._entries if e.watch.namespace != namespace]

    def for_test(self, nodeid: str, fixturenames: Iterable[str]) -> list[Watch]:
        names = set(fixturenames)
        with self._lock:
            found = [e.watch for e in self._entries
                     if e.nodeid == nodeid or (e.fixture is not None and e.fixture in names)]
        return list(dict.fromkeys(found))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


REGISTRY = Watches()


def watch(request: Any, namespace: str, selector: str | None = None, services: Iterable[str] = (),
          registry: Watches = REGISTRY) -> Watch:
    """Register a watch for the lifetime of `request` (a pytest FixtureRequest of any scope).

    A function-scoped request covers its test; a broader one covers every test that uses
    the fixture it belongs to. `request` is typed loosely so this module imports no pytest.
    """
    w = Watch(namespace, selector, tuple(services))
    if request.scope == "function":
        owner: dict[str, str | None] = {"nodeid": request.node.nodeid, "fixture": None}
    else:
        owner = {"nodeid": None, "fixture": request.fixturename}
    registry.add(w, **owner)
    request.addfinalizer(lambda: registry.remove(w, **owner))
    return w
