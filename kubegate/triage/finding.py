"""What one check found, and what a whole walk found: the first broken hop is the cause."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    hop: str  # the check's name, e.g. "kube-proxy"
    ok: bool | None  # None: not checked (no node shell, budget spent, nothing to check)
    summary: str  # one line a person can act on: "kube-proxy inactive on minion-2"
    node: str | None = None
    evidence: str = ""  # the command and the lines it returned

    @property
    def status(self) -> str:
        return {True: "ok", False: "FAIL", None: "not checked"}[self.ok]


@dataclass
class Triage:
    path: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def first_failure(self) -> Finding | None:
        return next((f for f in self.findings if f.ok is False), None)

    def cause(self) -> str:
        """The one line shown above a failure: the first broken hop, or an honest 'looks healthy'."""
        bad = self.first_failure
        if bad is not None:
            return bad.summary
        unchecked = [f.hop for f in self.findings if f.ok is None]
        tail = f" ({len(unchecked)} hops not checked: {', '.join(unchecked)})" if unchecked else ""
        return f"path looks healthy: every hop checked answered{tail}; the failure is the client's own answer"

    def table(self) -> str:
        rows = [f"{'hop':22} {'node':10} {'result':12} evidence"]
        for f in self.findings:
            evidence = f.evidence.replace("\n", " | ")[:200]
            rows.append(f"{f.hop:22} {f.node or '-':10} {f.status:12} {f.summary}" + (f" [{evidence}]" if evidence
                                                                                      else ""))
        return "\n".join(rows)
