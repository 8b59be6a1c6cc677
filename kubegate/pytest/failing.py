"""Terratest's two forms of every call, for pytest: the library raises (`FooE`), and a fixture
or test that cannot go on without the result wraps the call in `failing()` (`Foo`), so a
KubegateError fails it in one line naming the fix, never a traceback through the library."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from kubegate.errors import KubegateError


@contextmanager
def failing(what: str = "kubegate") -> Iterator[None]:
    try:
        yield
    except KubegateError as exc:
        pytest.fail(f"{what}: {exc}", pytrace=False)
