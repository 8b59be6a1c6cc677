"""Which kubectl binaries on this machine may talk to the cluster under test.

kubectl is supported within one minor version of the API server. Machines often carry
several: the google-cloud-sdk ships a `kubectl` dispatcher next to `kubectl.1.27` ...
`kubectl.1.33`, and the dispatcher's own choice can fall outside that skew (it picked 1.32
for a 1.34 server); kubegate also builds a kubectl with each server version. So the harness
looks for versioned binaries itself, asks each for its
client version (no server needed) and keeps those in skew; the contract suites run once per
kept binary and the harness's default picks the closest one.

Parsing and selection are pure functions (unit-tested in tests/test_kubectl_skew.py);
only `client_version`, `server_minor` and the `discover`/`resolve_binary` wrappers run
processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubegate.paths import cache_dir

ENV_BINARY = "KUBEGATE_KUBECTL"
SKEW = 1
_VERSIONED = re.compile(r"^kubectl\.(\d+)\.(\d+)$")
_MINOR = re.compile(r"^(\d+)")


@dataclass(frozen=True, order=True)
class KubectlBinary:
    """One kubectl executable and the client version it reports."""

    minor: int
    path: str
    major: int = 1
    git_version: str = ""

    @property
    def label(self) -> str:
        """Stable test id: `kubectl-1.33` (the patch level changes with every SDK update)."""
        return f"kubectl-{self.major}.{self.minor}"


@dataclass
class Discovery:
    """Every candidate's fate, so a skip can say why each binary was left out."""

    server: tuple[int, int] | None
    in_skew: list[KubectlBinary] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    #: every usable local client (dispatchers and duplicate minors dropped), newest first
    local: list[KubectlBinary] = field(default_factory=list)

    def to_run(self) -> tuple[list[KubectlBinary], str | None]:
        """What a suite parametrizes over, and the skip reason when that is nothing.

        With the server unknown (not up at collection time) every local client is offered
        and each test re-checks the skew once the cluster fixture has brought it up.
        """
        chosen = self.in_skew if self.server else self.local
        return chosen, (None if chosen else self.reason_none())

    def reason_none(self) -> str:
        server = f"{self.server[0]}.{self.server[1]}" if self.server else "unknown"
        why = "; ".join(f"{Path(p).name}: {r}" for p, r in self.rejected) or "no kubectl binaries found"
        return f"no kubectl within ±{SKEW} minor of server {server} ({why})"


def parse_minor(value: str) -> int:
    """`"33"` -> 33; `"32+"` (vendor builds, the SDK dispatcher) -> 32."""
    m = _MINOR.match(value.strip())
    if not m:
        raise ValueError(f"not a minor version: {value!r}")
    return int(m.group(1))


def parse_client_version(stdout: str) -> tuple[int, int, str]:
    """(major, minor, gitVersion) from `kubectl version --client -o json`."""
    data = json.loads(stdout)
    client = data["clientVersion"]
    return parse_minor(str(client["major"])), parse_minor(str(client["minor"])), str(client.get("gitVersion", ""))


def parse_server_version(stdout: str) -> tuple[int, int]:
    """(major, minor) from the API server's /version document."""
    data = json.loads(stdout)
    return parse_minor(str(data["major"])), parse_minor(str(data["minor"]))


def is_dispatcher(git_version: str) -> bool:
    """The SDK dispatcher execs another binary chosen per server, so its own version says nothing."""
    return "dispatcher" in git_version


def within_skew(client: tuple[int, int], server: tuple[int, int], skew: int = SKEW) -> bool:
    return client[0] == server[0] and abs(client[1] - server[1]) <= skew


def rank(binary: KubectlBinary, server: tuple[int, int]) -> tuple[int, int, str]:
    """Closest minor first; on a tie the older client (n-1 is what most users run against n)."""
    delta = binary.minor - server[1]
    return abs(delta), 1 if delta > 0 else 0, binary.path


def candidate_paths(resolved: str | None, extra: Iterable[str] = ()) -> list[str]:
    """`extra` (e.g. $KUBEGATE_KUBECTL) first, then the resolved kubectl and its versioned siblings.

    Symlinks are followed (/usr/bin/kubectl -> /usr/lib/google-cloud-sdk/bin/kubectl) because
    the siblings live next to the real file, not next to the link. Duplicates are dropped by
    real path so one binary reached two ways runs once.
    """
    out: list[str] = []
    seen: set[str] = set()

    def add(p: str) -> None:
        real = os.path.realpath(p)
        if real not in seen and os.path.isfile(real) and os.access(real, os.X_OK):
            seen.add(real)
            out.append(real)

    for p in extra:
        if p:
            add(shutil.which(p) or p)
    if resolved:
        real = Path(os.path.realpath(resolved))
        add(str(real))
        try:
            siblings = sorted(real.parent.iterdir())
        except OSError:
            siblings = []
        for s in siblings:
            if _VERSIONED.match(s.name):
                add(str(s))
    return out


def usable(found: Sequence[tuple[str, tuple[int, int, str] | str]]) -> list[KubectlBinary]:
    """Probed clients that are real kubectls, one per minor (the first found wins), newest first."""
    by_minor: dict[tuple[int, int], KubectlBinary] = {}
    for path, probed in found:
        if isinstance(probed, str) or is_dispatcher(probed[2]):
            continue
        major, minor, git = probed
        by_minor.setdefault((major, minor), KubectlBinary(minor=minor, path=path, major=major, git_version=git))
    return sorted(by_minor.values(), key=lambda b: (-b.major, -b.minor))


def select(server: tuple[int, int] | None, found: Sequence[tuple[str, tuple[int, int, str] | str]]) -> Discovery:
    """Sort probed candidates into in-skew binaries (best first) and rejects with reasons.

    `found` pairs each path with either its parsed client version or the error probing it.
    Only one binary per minor is kept: two 1.33 builds would run the same contract twice.
    With `server` None nothing is in skew and every candidate is rejected as unjudged.
    """
    disc = Discovery(server=server, local=usable(found))
    if server is None:
        disc.rejected = [(p, "server version unknown (API server not answering)") for p, _ in found]
        return disc
    by_minor: dict[tuple[int, int], KubectlBinary] = {}
    for path, probed in found:
        if isinstance(probed, str):
            disc.rejected.append((path, probed))
            continue
        major, minor, git = probed
        if is_dispatcher(git):
            disc.rejected.append((path, f"{git} is a dispatcher (it picks another binary per server)"))
        elif not within_skew((major, minor), server):
            disc.rejected.append((path, f"client {major}.{minor} outside ±{SKEW} of server {server[0]}.{server[1]}"))
        elif (major, minor) in by_minor:
            disc.rejected.append((path, f"another {major}.{minor} already chosen ({by_minor[(major, minor)].path})"))
        else:
            by_minor[(major, minor)] = KubectlBinary(minor=minor, path=path, major=major, git_version=git)
    disc.in_skew = sorted(by_minor.values(), key=lambda b: rank(b, server))
    return disc


def client_version(path: str, timeout: float = 15) -> tuple[int, int, str] | str:
    """The binary's client version, or why it could not be read (never raises)."""
    try:
        proc = subprocess.run([path, "version", "--client", "-o", "json"], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run: {exc}"
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        return f"`version --client` exited {proc.returncode}: {err[-1] if err else ''}"
    try:
        return parse_client_version(proc.stdout)
    except (ValueError, KeyError, TypeError) as exc:
        return f"unreadable `version --client -o json`: {exc}"


def server_minor(kubeconfig: Path, context: str | None, binary: str, timeout: float = 10) -> tuple[int, int] | None:
    """The API server's (major, minor) via `get --raw /version`, or None when it does not answer.

    `--raw` skips discovery and version negotiation, so even an out-of-skew client reads it.
    """
    cmd = [binary, f"--kubeconfig={kubeconfig}", f"--request-timeout={int(timeout)}s", "get", "--raw", "/version"]
    if context:
        cmd.insert(2, f"--context={context}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 5, check=False)
        if proc.returncode != 0:
            return None
        return parse_server_version(proc.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
        return None


def _identity(path: str) -> str:
    """A binary as found on disk: replaced or rebuilt, it is probed again."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"


def probe_clients(paths: Sequence[str], cache: Path | None = None) -> list[tuple[str, tuple[int, int, str] | str]]:
    """Each binary's client version. Versions read before are remembered in `cache` (every
    run, and every xdist worker, used to start each local kubectl once more to learn them)."""
    cache = cache or cache_dir() / "kubectl-versions.json"
    try:
        known: dict[str, list[Any]] = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    ids = {path: _identity(path) for path in paths}
    todo = [path for path in paths if not (ids[path] and ids[path] in known)]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(todo) or 1))) as pool:
        fresh = dict(zip(todo, pool.map(client_version, todo), strict=True))
    learned = {ids[p]: list(v) for p, v in fresh.items() if ids[p] and not isinstance(v, str)}
    if learned:
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({**known, **learned}))
            tmp.replace(cache)
    out: list[tuple[str, tuple[int, int, str] | str]] = []
    for path in paths:
        if path in fresh:
            out.append((path, fresh[path]))
        else:
            major, minor, git = known[ids[path]]
            out.append((path, (int(major), int(minor), str(git))))
    return out


def built_kubectls() -> list[str]:
    """The kubectls kubegate built beside each Kubernetes version's server binaries: a machine's
    own kubectls may all be older than the server minus one (this rig's stop at 1.33)."""
    return sorted(str(p) for p in (cache_dir() / "bin").glob("kubernetes-v*/kubectl"))


def local_candidates(default: str = "kubectl") -> list[str]:
    return candidate_paths(shutil.which(default), [os.environ.get(ENV_BINARY, ""), *built_kubectls()])


_cache: dict[tuple[str, str | None, str], Discovery] = {}


def discover(kubeconfig: Path, context: str | None = None, default: str = "kubectl") -> Discovery:
    """Every local kubectl, probed and sorted against the live server.

    Cached per cluster once the server has answered; when it does not (cluster not up yet)
    nothing is in skew, `Discovery.server` is None, callers fall back to `default`, and the
    next call asks again.
    """
    key = (str(kubeconfig), context, default)
    if key in _cache:
        return _cache[key]
    paths = local_candidates(default)
    probed = probe_clients(paths)
    server = None
    for path, version in probed:
        if not isinstance(version, str):
            server = server_minor(kubeconfig, context, path)
            break
    disc = select(server, probed)
    if server is not None:
        _cache[key] = disc
    return disc


def resolve_binary(kubeconfig: Path, context: str | None = None, default: str = "kubectl") -> str:
    """The best in-skew kubectl for this cluster, else `default`, else (a machine without one)
    the newest kubectl kubegate built."""
    disc = discover(kubeconfig, context, default)
    if disc.in_skew:
        return disc.in_skew[0].path
    built = built_kubectls()
    return default if shutil.which(default) or not built else built[-1]


def tally_summary(results: dict[str, tuple[int, int]], disc: Discovery) -> str:
    """One line for the run report: which clients passed, which failed, which never ran and why.

    `results` maps a binary's label to (tests run, tests failed).
    """
    passed = sorted(k for k, (ran, failed) in results.items() if ran and not failed)
    failed = sorted(f"{k} ({n} failed)" for k, (ran, n) in results.items() if n)
    not_run = [f"{Path(p).name}: {r}" for p, r in disc.rejected]
    server = f"{disc.server[0]}.{disc.server[1]}" if disc.server else "unknown"
    return (f"server {server}; passed: {', '.join(passed) or 'none'}; failed: {', '.join(failed) or 'none'}; "
            f"not run: {'; '.join(not_run) or 'none'}")
