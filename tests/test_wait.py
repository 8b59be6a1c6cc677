"""The one wait: answers as soon as the check has one, says what it last saw when time is up."""

from __future__ import annotations

import time

import pytest

from kubegate.errors import KubegateError
from kubegate.wait import WaitTimeout, poll, until


def test_until_returns_the_first_answer() -> None:
    answers = iter([None, None, "ready"])
    assert until(lambda: next(answers), timeout=5, every=0.01) == "ready"


def test_until_gives_up_after_the_timeout_with_none() -> None:
    started = time.monotonic()
    assert until(lambda: None, timeout=0.2, every=0.05) is None
    assert 0.2 <= time.monotonic() - started < 1


def test_falsy_answers_other_than_none_count() -> None:
    assert until(lambda: 0, timeout=1, every=0.1) == 0
    assert until(lambda: [], timeout=1, every=0.1) == []


def test_poll_says_what_it_waited_for_in_its_own_words() -> None:
    seen = {"state": "ContainerCreating"}
    with pytest.raises(WaitTimeout, match=r"db-0 still ContainerCreating after 0\.\d s"):
        poll(lambda: None, timeout=0.1, every=0.05, describe=lambda s: f"db-0 still {seen['state']} after {s:.1f} s")


def test_a_check_ends_the_wait_early_by_raising() -> None:
    def check() -> None:
        raise KubegateError("ImagePullBackOff: it cannot come true")

    started = time.monotonic()
    with pytest.raises(KubegateError, match="cannot come true"):
        poll(check, timeout=30, every=1, describe=lambda s: "never")
    assert time.monotonic() - started < 1
