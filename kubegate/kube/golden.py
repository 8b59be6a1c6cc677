"""Golden files for kubectl's human output (tables, describe, error messages).

Exact text is the point: a renamed column or a reworded error breaks scripts that scrape
it, and a dict comparison would not notice. But ages, UIDs, IPs, resourceVersions,
timestamps and generated names change on every run, and tabwriter re-pads whole columns
when one cell grows ("5s" -> "10m"). So both sides are normalised first: volatile tokens
become placeholders and runs of column padding become one fixed gap. Golden files hold the
normalised text, so a reviewer reads exactly what is compared.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_UID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Order matters: longer, more specific tokens first, so e.g. an RFC 3339 timestamp is not
# half-eaten by the age pattern.
_RULES: list[tuple[re.Pattern[str], str]] = [
    # klog header: "E1126 14:22:00.429817   14719 memcache.go:265] "
    (re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [\w.-]+:\d+\] ", re.M), "<KLOG> "),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"), "<TIME>"),
    # `describe`: "Start Time:   Thu, 26 Nov 2026 14:20:00 +0000"
    (re.compile(r"\b[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}"), "<TIME>"),
    (re.compile(_UID), "<UID>"),
    (re.compile(r"\b(containerd|docker|cri-o)://[0-9a-f]{12,}"), r"\1://<CONTAINER-ID>"),
    (re.compile(r"sha256:[0-9a-f]{64}"), "sha256:<DIGEST>"),
    (re.compile(r"([\"']?resourceVersion[\"']?:\s*)[\"']?\d+[\"']?"), r"\1<RV>"),
    # Any IPv4 but loopback (which never changes and says "this machine" in an error).
    (re.compile(r"\b(?!127\.0\.0\.1\b)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:/\d{1,2})?\b"), "<IP>"),
    # Ages as kubectl prints them (duration.HumanDuration): 5s, 2m30s, 3h4m, 12d, 2y41d;
    # "<invalid>" for clock skew.
    (re.compile(r"(?<![\w.:/-])(?:\d+[smhdy]){1,2}(?![\w.:/-])"), "<AGE>"),
    (re.compile(r"<invalid>"), "<AGE>"),
]
_CELLS = re.compile(r"(?<=\S)[ \t]{2,}(?=\S)")
GAP = 3  # kubectl's tabwriter padding


def normalise(text: str, literals: Mapping[str, str] | None = None) -> str:
    """Placeholders for what legitimately changes between runs; one gap between columns.

    `literals` maps run-specific strings the caller knows (namespace, image tag, generated
    pod names, a random port) to placeholders; they are replaced first, longest first, so
    `kg-rc-x7k2p` is not spoilt by a shorter `kg-rc`, in a single pass.
    """
    lits = {k: v for k, v in (literals or {}).items() if k}
    if lits:
        # One pass, longest first: a placeholder already written is never rewritten.
        alternation = re.compile("|".join(re.escape(k) for k in sorted(lits, key=len, reverse=True)))
        text = alternation.sub(lambda m: lits[m.group(0)], text)
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    lines = realign([line.rstrip() for line in text.splitlines()])
    return "\n".join(lines).strip("\n") + "\n" if any(lines) else ""


def realign(lines: list[str]) -> list[str]:
    """Re-pad column blocks as tabwriter would, but from the normalised cells.

    A block is a run of consecutive lines at the same indentation with two or more cells
    separated by two or more spaces: a table, or describe's `Key:   value` lines (where a
    `Port:   <unset>  27017/TCP` row may carry one cell more). Each column is as wide as
    its widest non-final cell in the block. The result no longer depends on how wide an IP
    or an age happened to be.
    """
    rows = [(len(ln) - len(ln.lstrip()), _CELLS.split(ln.strip())) for ln in lines]
    out: list[str] = []
    i = 0
    while i < len(rows):
        j = i + 1
        if len(rows[i][1]) > 1:
            while j < len(rows) and len(rows[j][1]) > 1 and rows[j][0] == rows[i][0]:
                j += 1
        widths: dict[int, int] = {}
        for _, cells in rows[i:j]:
            for c, cell in enumerate(cells[:-1]):
                widths[c] = max(widths.get(c, 0), len(cell))
        for indent, cells in rows[i:j]:
            padded = [cell.ljust(widths[c] + GAP) for c, cell in enumerate(cells[:-1])] + cells[-1:]
            out.append((" " * indent + "".join(padded)).rstrip())
        i = j
    return out


def unified_diff(expected: str, actual: str, name: str) -> str:
    return "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                        fromfile=f"golden/{name}", tofile=f"actual/{name}"))


class GoldenMismatch(AssertionError):
    """An AssertionError so pytest reports it as a failure, with the diff as its message."""


@dataclass
class GoldenFiles:
    """A directory of `<name>.txt` files; with `update` every check rewrites its file instead."""

    directory: Path
    update: bool = False
    written: list[Path] = field(default_factory=list)

    def path(self, name: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or ".." in name:
            raise ValueError(f"golden name {name!r}: letters, digits, '_', '-', '.' only")
        return self.directory / f"{name}.txt"

    def check(self, name: str, actual: str, literals: Mapping[str, str] | None = None) -> str:
        """Compare `actual` (normalised) with the golden file; returns the normalised text."""
        got = normalise(actual, literals)
        path = self.path(name)
        if self.update:
            if not path.is_file() or path.read_text() != got:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(got)
                self.written.append(path)
            return got
        if not path.is_file():
            raise GoldenMismatch(f"no golden file {path}; create it with --update-golden. Normalised output:\n{got}")
        want = path.read_text()
        if want != got:
            raise GoldenMismatch(f"output differs from {path} (rewrite with --update-golden if the change is "
                                 f"intended):\n{unified_diff(want, got, path.name)}")
        return got
