"""How collectors reach the cluster: kubectl and node shells behind one small interface.

Collectors take a Runner instead of a provider so unit tests can hand them canned output,
and so a failing command becomes a result to record, never an exception that would
replace the test's own failure.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kubegate.errors import KubegateError
from kubegate.providers.base import ClusterProvider


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def error(self) -> str:
        lines = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return lines[-1] if lines else f"exit {self.returncode}"


class Runner(Protocol):
    has_node_shell: bool

    def kubectl(self, args: Sequence[str], timeout: float, stdin: str | None = None) -> Result: ...

    def node(self, node: str, command: str, timeout: float) -> Result: ...


class ProviderRunner:
    def __init__(self, provider: ClusterProvider) -> None:
        self.provider = provider
        self.has_node_shell = provider.has_node_shell
        self._kubectl = provider.kubectl()

    def kubectl(self, args: Sequence[str], timeout: float, stdin: str | None = None) -> Result:
        res = self._kubectl.run_e(*args, timeout=timeout, stdin=stdin)
        return Result(res.returncode, res.stdout, res.stderr)

    def node(self, node: str, command: str, timeout: float) -> Result:
        try:
            return Result(0, self.provider.node_shell(node, command, timeout=timeout))
        except (KubegateError, NotImplementedError, OSError, subprocess.TimeoutExpired) as exc:
            return Result(1, "", str(exc))


class Budget:
    """One deadline for the whole bundle: a hung API server must not hold the run hostage."""

    def __init__(self, seconds: float, per_command: float = 15) -> None:
        self.deadline = time.monotonic() + seconds
        self.per_command = per_command

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def timeout(self) -> float:
        """At least one second, so a command started at the edge still gets a chance."""
        return max(1.0, min(self.per_command, self.remaining()))

    def spent(self) -> bool:
        return self.remaining() <= 0
