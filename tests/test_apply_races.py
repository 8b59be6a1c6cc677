"""kubectl apply beside a controller: the ServiceAccount controller creates `default` in a new
namespace while kubegate applies its own `default` (with the pull Secret). kubectl reads, finds
nothing, creates, and gets AlreadyExists: applying again patches the object that is there now.
The race is played here deterministically by a kubectl whose first answer is the controller's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubegate.kube import kubectl as kubectl_mod
from kubegate.kube.kubectl import Kubectl, KubectlError, KubectlResult

RACE = 'Error from server (AlreadyExists): error when creating "STDIN": serviceaccounts "default" already exists'


class Scripted(Kubectl):
    def __init__(self, answers: list[tuple[int, str]]) -> None:
        super().__init__(Path("/dev/null"), binary="sh")
        self.answers, self.calls = answers, 0

    def run_e(self, *args: str, stdin: str | None = None, timeout: float = 120) -> KubectlResult:
        code, err = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return KubectlResult(tuple(args), code, "serviceaccount/default configured\n" if code == 0 else "", err, 0.01)


def test_a_controller_creating_the_object_first_is_applied_again() -> None:
    k = Scripted([(1, RACE), (0, "")])
    assert k.apply("kind: ServiceAccount").returncode == 0
    assert k.calls == 2


def test_a_conflict_is_applied_again_too() -> None:
    k = Scripted([(1, 'Error from server (Conflict): Operation cannot be fulfilled on serviceaccounts "default": '
                      "the object has been modified; please apply your changes to the latest version"), (0, "")])
    k.apply("kind: ServiceAccount")
    assert k.calls == 2


def test_any_other_error_fails_at_once() -> None:
    k = Scripted([(1, 'Error from server (Forbidden): serviceaccounts "default" is forbidden'), (0, "")])
    with pytest.raises(KubectlError, match="Forbidden"):
        k.apply("kind: ServiceAccount")
    assert k.calls == 1


def test_a_race_that_never_settles_fails_after_the_last_attempt(monkeypatch: Any) -> None:
    k = Scripted([(1, RACE)])
    with pytest.raises(KubectlError, match="AlreadyExists"):
        k.apply("kind: ServiceAccount")
    assert k.calls == kubectl_mod.APPLY_ATTEMPTS
