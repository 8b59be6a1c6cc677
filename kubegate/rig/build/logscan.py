"""What a failed build's log says went wrong, in one line.

The last line of a failed build is almost never the error: Node prints its version after a
stack trace, docker says "returned a non-zero code", npm points at its debug log. The user
needs the first error line (an exception, `npm error`, apt's `E:`, pip's `ERROR:`, a Go
compile error) and, for an image, the Dockerfile step that ran it. Pure functions over the
log's text, so each rule is unit-tested on real logs.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # the legacy builder colours a RUN's stderr red
_STEP = re.compile(r"^Step (\d+/\d+) : (.*)$")
_NPM = re.compile(r"^npm (?:ERR!|error) ")
_ERROR = re.compile(
    r"^(?:"
    r"npm (?:ERR!|error) "  # npm 9 / npm 10+
    r"|E: "  # apt
    r"|ERROR:? "  # pip, our own scripts
    r"|\[ERROR\] "  # Maven
    r"|(?:[A-Za-z_][\w.]*)?(?:Error|Exception)(?: \[\w+\])?: "  # Python and JavaScript exceptions
    r"|\S+\.go:\d+:\d+: "  # Go compile errors
    r"|go: .*(?:error|not found|cannot|invalid|unknown|verifying|missing)"  # go command errors
    r"|kubegate: "  # the build scripts' own one-line errors
    r"|fatal: |error: |Error response from daemon: "
    r")"
)
_NODE_MODULE = re.compile(r"node_modules/((?:@[\w.-]+/)?[\w.-]+)")
_NOISE = ("npm error A complete log", "npm ERR! A complete log", "npm error Log files", "npm ERR! Log files")
_LAST_RESORT = re.compile(r"returned a non-zero code|exit status \d+")


#: An error line longer than this is cut (pip lists every version a package ever had).
MAX_LINE = 300


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE else f"{line[:MAX_LINE - 3]}... [{len(line) - MAX_LINE + 3} more characters]"


def first_error(text: str) -> str:
    """The first line of `text` that states an error (cut to MAX_LINE), with what follows it when
    that line alone is only a code (npm's `code ETARGET`) or when a Node module path nearby names
    the package."""
    return _clip(_first_error(text))


def _first_error(text: str) -> str:
    lines = [_ANSI.sub("", line).rstrip() for line in text.splitlines()]
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("+ ") or stripped.startswith(_NOISE) or not _ERROR.match(stripped):
            continue
        if _NPM.match(stripped) and re.search(r" code \S+$", stripped):
            nxt = next((n.strip() for n in lines[i + 1:i + 4] if _NPM.match(n.strip())), "")
            return f"{stripped} | {nxt}" if nxt else stripped
        module = next((m.group(1) for n in reversed(lines[max(0, i - 6):i + 4]) if (m := _NODE_MODULE.search(n))), "")
        return f"{stripped} (in {module})" if module and module not in stripped else stripped
    last = next((line.strip() for line in reversed(lines) if _LAST_RESORT.search(line)), "")
    if last:
        return last
    tail = [line.strip() for line in lines if line.strip()]
    return tail[-1] if tail else "(empty log)"


def docker_step(text: str, width: int = 100) -> str:
    """The last `Step N/M : INSTRUCTION` the legacy builder printed: the step that was running
    when the build failed (or now, for a progress line). "" before the first step."""
    for line in reversed(text.splitlines()):
        m = _STEP.match(_ANSI.sub("", line).strip())
        if m:
            instruction = " ".join(m.group(2).split())
            if len(instruction) > width:
                instruction = instruction[:width - 3] + "..."
            return f"Step {m.group(1)} ({instruction})"
    return ""


def go_packages(text: str) -> int:
    """Packages `go build -v` has named so far in this log, for a progress line."""
    return sum(1 for line in text.splitlines()
               if line and not line.startswith(("$", "go: ", "#", " ", "\t")) and ":" not in line)
