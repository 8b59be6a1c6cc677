"""mongosh, MongoDB's own shell, as the seed used `mongo`: `echo "show dbs" | mongosh URL`.

On the host mongosh lives in `$KUBEGATE_CACHE/node` (`npm ci` from the client image's lock, see
kubegate.locks.npm);
in the client image it is on PATH. mongosh's telemetry sink is switched off through the
environment (an empty MONGOSH_TELEMETRY_ENDPOINT) and `--quiet` skips its update check, so it
talks to nothing but the database.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from .result import ProbeResult, classify_failure, fail, one_line, target_of

_SHOW_DBS_LINE = re.compile(r"^(?:\S+> )?(\S+)\s+\d+(?:\.\d+)?\s+(?:B|KiB|MiB|GiB|TiB)$")


class MongoshNotFound(RuntimeError):
    """mongosh is neither in the cache nor on PATH."""


def cache_dir() -> Path:
    return Path(os.environ.get("KUBEGATE_CACHE") or Path.home() / ".cache" / "kubegate")


def cached_mongosh(cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "node" / "node_modules" / ".bin" / "mongosh"


def find_mongosh(cache: Path | None = None) -> str:
    """The cache's mongosh if installed, else the one on PATH."""
    cached = cached_mongosh(cache)
    if cached.exists():
        return str(cached)
    on_path = shutil.which("mongosh")
    if on_path:
        return on_path
    raise MongoshNotFound(
        f"mongosh not found in {cached.parent} nor on PATH; install it from kubegate's lock with: "
        "python3 -m kubegate.locks.npm (bash cluster/host/setup.sh does)"
    )


def show_dbs_command(mongosh: str, host: str, port: int, timeout_s: float) -> str:
    """The literal shell pipeline, as the seed ran it: `echo "show dbs" | mongosh ...`."""
    url = f"mongodb://{target_of(host, port)}/?directConnection=true&serverSelectionTimeoutMS={int(timeout_s * 1000)}"
    return f'echo "show dbs" | {shlex.quote(mongosh)} --quiet --norc {shlex.quote(url)}'


def parse_show_dbs(stdout: str) -> list[str]:
    """Database names from `show dbs` output (`name  8.00 KiB` per line). Pure; unit-tested."""
    # With piped stdin mongosh echoes its prompt (`test> `) before the output.
    return [m.group(1) for line in stdout.splitlines() if (m := _SHOW_DBS_LINE.match(line.strip()))]


def mongosh_env() -> dict[str, str]:
    env = dict(os.environ)
    env["MONGOSH_TELEMETRY_ENDPOINT"] = ""  # no telemetry sink at all
    env.setdefault("NO_COLOR", "1")
    return env


def show_dbs(host: str, port: int = 27017, *, mongosh: str | None = None, timeout_s: float = 10.0) -> ProbeResult:
    """Run `echo "show dbs" | mongosh --quiet mongodb://HOST:PORT/...` through /bin/sh.

    ok when mongosh exits 0 and prints no error. details: command (literal), databases, stdout.
    """
    target = target_of(host, port)
    started = time.monotonic() * 1000
    try:
        binary = mongosh or find_mongosh()
    except MongoshNotFound as exc:
        return fail("mongosh", target, started, time.monotonic() * 1000, str(exc), kind="not installed")
    cmd = show_dbs_command(binary, host, port, timeout_s)
    details: dict[str, object] = {"command": cmd}
    try:
        proc = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, text=True, timeout=timeout_s + 20,
                              env=mongosh_env())
    except subprocess.TimeoutExpired:
        return fail("mongosh", target, started, time.monotonic() * 1000, f"mongosh ran over {timeout_s + 20:.0f} s",
                    action="show dbs", kind="timeout", details=details)
    now = time.monotonic() * 1000
    out, err = proc.stdout.strip(), proc.stderr.strip()
    details.update({"exit_code": proc.returncode, "stdout": out, "databases": parse_show_dbs(out)})
    error_text = "\n".join(line for line in (out + "\n" + err).splitlines() if "Error" in line or "error" in line)
    if proc.returncode != 0 or error_text:
        text = one_line(error_text or err or out or f"exit code {proc.returncode}")
        return fail("mongosh", target, started, now, text, action="show dbs", kind=classify_failure(text),
                    details=details)
    return ProbeResult(probe="mongosh", target=target, ok=True, latency_ms=now - started, details=details)
