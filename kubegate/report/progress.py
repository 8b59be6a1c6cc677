"""Phase progress for bring-up and deploy: a line per phase with elapsed time, and JSON.

A person at a terminal wants to see which phase a slow bring-up is in; CI wants the
same numbers as data. Each phase is also handed to the active report run (when one is
recording) so the HTML timeline shows bring-up next to the suites.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

_SAY = threading.Lock()

#: How often a long phase says what it is doing: a terminal and a CI log alike see a line at
#: least this often, so twenty minutes of compiling never look like a hang.
HEARTBEAT_S = 30.0


@dataclass
class Phase:
    name: str
    started: float
    ended: float = 0.0
    ok: bool = True
    stopped: bool = False  # ended early because a step beside it failed: not itself a failure
    note: str = ""
    repaired: list[str] = field(default_factory=list)  # what the step found broken and fixed

    @property
    def seconds(self) -> float:
        return round(self.ended - self.started, 2)


@dataclass
class Progress:
    title: str
    out: TextIO = field(default_factory=lambda: sys.stderr)
    phases: list[Phase] = field(default_factory=list)
    t0: float = field(default_factory=time.time)

    def say(self, message: str) -> None:
        # One write per line, under a lock: side-by-side steps and their tickers print at once,
        # and print()'s separate write of the newline let two lines run together.
        with _SAY:
            self.out.write(f"[{time.time() - self.t0:7.1f}s] {self.title}: {message}\n")
            self.out.flush()

    @contextmanager
    def phase(self, name: str) -> Iterator[Phase]:
        ph = Phase(name, time.time())
        self.phases.append(ph)
        self.say(f"{name} ...")
        try:
            yield ph
        except BaseException:
            ph.ok = False
            raise
        finally:
            ph.ended = time.time()
            status = "done" if ph.ok else "stopped" if ph.stopped else "FAILED"
            self.say(f"{name} {status} in {ph.seconds:.1f}s" + (f" ({ph.note})" if ph.note else ""))
            _forward(ph)

    @contextmanager
    def ticking(self, name: str, status: Callable[[], str] | None, every: float = HEARTBEAT_S) -> Iterator[None]:
        """While the block runs, say every `every` seconds what `status()` reports."""
        if status is None:
            yield
            return
        done = threading.Event()
        started = time.time()

        def tick() -> None:
            while not done.wait(every):
                try:
                    text = status()
                except Exception as exc:  # a progress line must never break the build it describes
                    text = f"(no status: {exc})"
                self.say(f"{name} running for {time.time() - started:.0f}s: {text}")

        thread = threading.Thread(target=tick, name=f"progress-{name}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "started": self.t0,
            "seconds": round(time.time() - self.t0, 2),
            "phases": [{"name": p.name, "started": p.started, "ended": p.ended, "seconds": p.seconds,
                        "ok": p.ok, "note": p.note, "repaired": p.repaired} for p in self.phases],
        }

    def write_json(self, folder: Path, stem: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stem}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(self.t0))}.json"
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")
        return path


def _forward(ph: Phase) -> None:
    try:
        from kubegate.report import current
    except ImportError:  # the report package is optional for the CLI
        return
    extra = {"repaired": ph.repaired} if ph.repaired else {}
    current().record_phase(ph.name, ph.started, ph.ended, ok=ph.ok, note=ph.note, **extra)
