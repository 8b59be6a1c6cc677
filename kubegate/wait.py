"""The one way kubegate waits for something: call a check until it has an answer or time is up.

Terratest builds every `WaitUntil*` on one retry helper; kubegate does the same, so a wait's
deadline, pause and message are never written again by hand. `until` returns None when time
is up (the caller decides what that means); `poll` raises instead, with a message that the
caller's `describe` writes from what the wait last saw. A check ends a wait early by raising
(a reason the condition can never come true).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from kubegate.errors import KubegateError

T = TypeVar("T")


class WaitTimeout(KubegateError):
    """A wait ran out of time; its message says what it waited for and what it last saw."""


def until(check: Callable[[], T | None], *, timeout: float, every: float) -> T | None:
    """`check()` every `every` seconds until it returns something other than None (returned),
    or `timeout` seconds have passed (None). The check runs at least once."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(every, left))


def poll(check: Callable[[], T | None], *, timeout: float, every: float, describe: Callable[[float], str]) -> T:
    """As `until`, but time running out raises WaitTimeout(describe(seconds waited))."""
    started = time.monotonic()
    result = until(check, timeout=timeout, every=every)
    if result is None:
        raise WaitTimeout(describe(time.monotonic() - started))
    return result
