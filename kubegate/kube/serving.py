"""A kubectl that serves until stopped (`proxy`, `port-forward`): started, read until it says
where it listens, stopped in a finally whatever happens, so no run leaves one behind.

Both print their loopback address on their first stdout line; `--port=0` / `:PORT` let the
kernel pick it, so concurrent runs on one machine never collide.
"""

from __future__ import annotations

import re
import selectors
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kubegate.errors import KubegateError


@contextmanager
def serving(cmd: list[str], ready: re.Pattern[str], timeout: float = 15) -> Iterator[re.Match[str]]:
    """Run `cmd`; yield the match of `ready` on its output once it appears."""
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            deadline, seen = time.monotonic() + timeout, ""
            with selectors.DefaultSelector() as sel:
                sel.register(proc.stdout, selectors.EVENT_READ)
                # Not a poll (kubegate.wait): a select over the process's output, woken by each line.
                while time.monotonic() < deadline:
                    if sel.select(timeout=0.2):
                        line = proc.stdout.readline()
                        seen += line
                        if m := ready.search(line):
                            yield m
                            return
                        if not line and proc.poll() is not None:
                            break
            log.seek(0)
            raise KubegateError(f"`{' '.join(cmd[:1] + cmd[-3:])}` did not start within {timeout:.0f}s "
                                f"(exit {proc.poll()}): {(log.read() or seen).strip()[-300:]}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            if proc.stdout:
                proc.stdout.close()
