"""The real kubectl, run as a subprocess against an explicit kubeconfig.

The harness never reads or writes ~/.kube/config: every call names its kubeconfig.
Naming follows Terratest: `run` raises a KubectlError (the test fails with kubectl's own
stderr), `run_e` returns the result whatever the exit code (for suites that assert on the
contract itself: exit codes, what goes to stdout and what to stderr).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubegate.errors import KubegateError


@dataclass(frozen=True)
class KubectlResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def command(self) -> str:
        return "kubectl " + " ".join(self.args)


class KubectlError(KubegateError):
    def __init__(self, result: KubectlResult) -> None:
        err = result.stderr.strip().splitlines()
        super().__init__(f"`{result.command}` exited {result.returncode}: {err[-1] if err else '(no stderr)'}")
        self.result = result


class WaitTimeout(KubegateError):
    """A wait that ran out, naming the condition, the object and its last observed state."""


#: What kubectl apply says when a controller created or changed an object under it (see apply).
CONTROLLER_RACES = ("(AlreadyExists)", "(Conflict)", "the object has been modified")
APPLY_ATTEMPTS = 3

#: `Error from server (Forbidden)` lines seen by this process, newest last: a test that fails
#: after one is most likely missing a permission, which its own assertion rarely says.
FORBIDDEN: list[str] = []


class Kubectl:
    def __init__(self, kubeconfig: Path, *, context: str | None = None, namespace: str | None = None,
                 binary: str = "kubectl") -> None:
        if shutil.which(binary) is None:
            raise KubegateError(f"{binary} not found on PATH; install kubectl or pass its path")
        self.kubeconfig = kubeconfig
        self.context = context
        self.namespace = namespace
        self.binary = binary

    def with_namespace(self, namespace: str | None) -> Kubectl:
        return Kubectl(self.kubeconfig, context=self.context, namespace=namespace, binary=self.binary)

    def base_args(self) -> list[str]:
        args = [f"--kubeconfig={self.kubeconfig}"]
        if self.context:
            args.append(f"--context={self.context}")
        if self.namespace:
            args.append(f"--namespace={self.namespace}")
        return args

    def run_e(self, *args: str, stdin: str | None = None, timeout: float = 120) -> KubectlResult:
        cmd = [self.binary, *self.base_args(), *args]
        start = time.monotonic()
        try:
            proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            def _s(v: str | bytes | None) -> str:
                return v.decode() if isinstance(v, bytes) else (v or "")
            return KubectlResult(tuple(args), -1, _s(exc.stdout), _s(exc.stderr) + f"\n(timed out after {timeout}s)",
                                 time.monotonic() - start)
        if proc.returncode != 0 and "(Forbidden)" in proc.stderr:
            FORBIDDEN.append(next(ln for ln in proc.stderr.splitlines() if "(Forbidden)" in ln).strip())
        return KubectlResult(tuple(args), proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)

    def run(self, *args: str, stdin: str | None = None, timeout: float = 120) -> KubectlResult:
        result = self.run_e(*args, stdin=stdin, timeout=timeout)
        if result.returncode != 0:
            raise KubectlError(result)
        return result

    def get_json(self, *args: str) -> Any:
        return json.loads(self.run("get", *args, "-o", "json").stdout)

    def apply(self, manifest: str) -> KubectlResult:
        """`kubectl apply`. A controller may create an object between kubectl's read and its create
        (the ServiceAccount controller's `default` in a new namespace) or change it between read
        and patch; kubectl then fails with AlreadyExists or Conflict, and applying again patches
        what is there now. Anything else fails at once."""
        for _ in range(APPLY_ATTEMPTS - 1):
            result = self.run_e("apply", "-f", "-", stdin=manifest)
            if result.returncode == 0 or not any(m in result.stderr for m in CONTROLLER_RACES):
                break
        else:
            result = self.run_e("apply", "-f", "-", stdin=manifest)
        if result.returncode != 0:
            raise KubectlError(result)
        return result

    def wait(self, target: str, condition: str, timeout: float = 120, *, selector: str | None = None,
             needs: str | None = None) -> None:
        """`kubectl wait`; on failure, raise naming the condition, the object and its last observed state.

        kubectl's own message ("timed out waiting for the condition on pods/x") names neither
        why the pod is not Ready nor where it is, so the object is read once more and its
        phase, unmet conditions and container states go into the message. `needs` selects the pods
        the waited ones depend on (the app's workers on msg): when one of those can never become
        Ready, the waited pods' readiness probes fail for as long as the time-out lasts, and the
        wait ends early naming the pod they need instead.
        """
        sel = ["-l", selector] if selector else []
        what = [target] if target else []
        # What the messages name: the waited objects and where.
        subject = f"{target} with {selector}" if target and selector else target or f"objects with {selector}"
        ns = f" in namespace {self.namespace}" if self.namespace else ""
        started = time.monotonic()
        # Pods are waited for in slices: between them, a reason the condition can never come true
        # (a crash loop, an image that cannot be had, a pod no node can take) ends the wait early.
        pods = (target or "pod").split("/")[0] in ("pod", "pods")
        # Not a poll (kubegate.wait): `kubectl wait` itself waits; this loop only cuts it in slices.
        while pods and time.monotonic() - started < timeout - SLICE_S:
            res = self.run_e("wait", *what, *sel, f"--for={condition}", f"--timeout={int(SLICE_S)}s",
                             timeout=SLICE_S + 30)
            if res.returncode == 0:
                return
            if not any(t in res.stderr for t in RETRYABLE):
                break  # a usage or permission error: no later slice will differ; report it below
            hopeless = self._hopeless(what, sel)
            if not hopeless and needs:
                needed = self._hopeless(["pods"], ["-l", needs])
                hopeless = f"it needs {needed}" if needed else ""
            if hopeless:
                raise WaitTimeout(f"gave up after {time.monotonic() - started:.0f}s of {int(timeout)}s waiting for "
                                  f"{condition} on {subject}{ns}: it cannot come true: {hopeless}")
        else:
            left = max(1, int(timeout - (time.monotonic() - started)))
            res = self.run_e("wait", *what, *sel, f"--for={condition}", f"--timeout={left}s", timeout=left + 30)
            if res.returncode == 0:
                return
        err = res.stderr.strip().splitlines()
        why = err[-1].removeprefix("error: ") if err else f"kubectl wait exited {res.returncode}"
        # An early exit (no matching objects, a bad condition) is not a time-out; say which.
        spent = time.monotonic() - started
        waited = (f"waited {int(timeout)}s" if spent >= timeout - 1
                  else f"kubectl wait gave up after {spent:.0f}s of {int(timeout)}s")
        raise WaitTimeout(f"{waited} for {condition} on {subject}{ns}: {why}; "
                          f"last observed: {self._observed(what, sel)}")

    def _hopeless(self, what: list[str], sel: list[str]) -> str:
        """Why a pod can never become Ready, if it can't: one line naming pod, reason and message,
        and the kubelet's latest warnings about it (a failing probe's own output)."""
        state = self.run_e("get", *what, *sel, "-o", "json", timeout=30)
        if state.returncode != 0:
            return ""
        try:
            data = json.loads(state.stdout)
        except ValueError:
            return ""
        for pod in data.get("items", [data]) if isinstance(data, dict) else []:
            name = pod.get("metadata", {}).get("name", "?")
            reason = hopeless_reason(pod)
            events: list[dict[str, Any]] | None = None
            if not reason and restarted_not_ready(pod):
                events = self.warnings(pod)
                reason = stuck_reason(pod, events)
            if reason:
                warned = warning_line(self.warnings(pod) if events is None else events)
                return f"pod/{name}: {reason}; {describe_state(pod)}" + (f"; {warned}" if warned else "")
        return ""

    def warnings(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        """The pod's Warning events (Unhealthy with the probe's output, BackOff, Failed), oldest first."""
        meta = pod.get("metadata", {})
        ns = meta.get("namespace") or self.namespace
        res = self.run_e("get", "events", *(["-n", ns] if ns else []), "--field-selector",
                         f"involvedObject.kind=Pod,involvedObject.name={meta.get('name', '')},type=Warning",
                         "-o", "json", timeout=30)
        if res.returncode != 0:
            return []
        try:
            items: list[dict[str, Any]] = json.loads(res.stdout).get("items", [])
        except ValueError:
            return []
        return sorted(items, key=event_time)

    def _observed(self, what: list[str], sel: list[str]) -> str:
        state = self.run_e("get", *what, *sel, "-o", "json", timeout=30)
        if state.returncode != 0:
            err = state.stderr.strip().splitlines()
            return err[-1] if err else f"kubectl get exited {state.returncode}"
        try:
            data = json.loads(state.stdout)
        except ValueError:
            return state.stdout.strip()[:500] or "(nothing)"
        items = data.get("items", [data]) if isinstance(data, dict) else []
        if not items:
            return "no matching objects"
        shown = []
        for item in items[:5]:
            line = describe_state(item)
            if str(item.get("kind", "Pod")) == "Pod" and not is_ready(item):
                warned = warning_line(self.warnings(item))  # why the kubelet thinks it is not Ready
                line += f"; {warned}" if warned else ""
            shown.append(line)
        more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
        return " | ".join(shown) + more


#: a container restarted this often and still failing its probes will not become Ready by waiting
STUCK_RESTARTS = 2
STUCK_UNHEALTHY = 3


def is_ready(obj: dict[str, Any]) -> bool:
    """A node's or a pod's Ready condition is True."""
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


def event_time(event: dict[str, Any]) -> str:
    """An event's latest time as the API writes it (RFC 3339 sorts as text)."""
    return str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or "")


def restarted_not_ready(pod: dict[str, Any]) -> bool:
    return any(not cs.get("ready") and int(cs.get("restartCount", 0)) >= STUCK_RESTARTS
               for cs in (pod.get("status") or {}).get("containerStatuses") or [])


def stuck_reason(pod: dict[str, Any], events: list[dict[str, Any]]) -> str:
    """A pod that keeps failing its probes and restarting: waiting longer only repeats it."""
    unhealthy = sum(int(e.get("count") or 1) for e in events if e.get("reason") == "Unhealthy")
    if not restarted_not_ready(pod) or unhealthy < STUCK_UNHEALTHY:
        return ""
    worst = max((cs for cs in (pod.get("status") or {}).get("containerStatuses") or []),
                key=lambda cs: int(cs.get("restartCount", 0)))
    return (f"container {worst.get('name')} not ready after {worst.get('restartCount')} restarts and "
            f"{unhealthy} failed probes")


def warning_line(events: list[dict[str, Any]], keep: int = 3, counts: bool = True) -> str:
    """The latest distinct warnings in one line: `Unhealthy: Readiness probe failed: dial tcp ...: i/o
    timeout (x9)`, the restarts' reason with them; '' when there are none. Without `counts` the
    line stays the same while the warnings repeat (a cause line that groups failures)."""
    n: dict[tuple[str, str], int] = {}
    last: dict[tuple[str, str], str] = {}
    for e in events:
        key = (str(e.get("reason", "")), " ".join(str(e.get("message", "")).split())[:200])
        n[key] = n.get(key, 0) + int(e.get("count") or 1)
        last[key] = max(last.get(key, ""), event_time(e))
    latest = sorted(n, key=lambda k: last[k])[-keep:]
    return ("events: " + " | ".join(f"{r}: {m}" + (f" (x{n[(r, m)]})" if counts and n[(r, m)] > 1 else "")
                                    for r, m in latest) if latest else "")


#: waiting reasons after which a container does not start without someone changing something
HOPELESS_WAITING = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull",
                    "InvalidImageName", "CreateContainerConfigError", "CreateContainerError")
SLICE_S = 3.0
#: what `kubectl wait` says when waiting longer may help: still not true, or not created yet
RETRYABLE = ("timed out waiting", "no matching resources found", "NotFound", "not found")


def hopeless_reason(pod: dict[str, Any]) -> str:
    """A pod that cannot become Ready as it stands: a container stuck in one of HOPELESS_WAITING,
    or a pod the scheduler found no node for (FailedScheduling)."""
    status = pod.get("status") or {}
    for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in HOPELESS_WAITING:
            return f"container {cs.get('name')} {waiting['reason']}" + (
                f" ({waiting['message']})" if waiting.get("message") else "")
    for c in status.get("conditions") or []:
        if c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable":
            return f"FailedScheduling: {c.get('message', '')}"
    return ""


def describe_state(obj: dict[str, Any]) -> str:
    """One line an engineer can act on: the phase, conditions that are not True (with their
    reasons), and per container why it is waiting or how it terminated."""
    meta = obj.get("metadata", {})
    name = f"{str(obj.get('kind', 'object')).lower()}/{meta.get('name', '?')}"
    status = obj.get("status") or {}
    parts: list[str] = []
    if status.get("phase"):
        parts.append(f"phase {status['phase']}")
    if obj.get("spec", {}).get("nodeName"):
        parts.append(f"on {obj['spec']['nodeName']}")
    if meta.get("deletionTimestamp"):
        parts.append("being deleted")
    for c in status.get("conditions") or []:
        if c.get("status") != "True":
            detail = ": ".join(x for x in (c.get("reason"), c.get("message")) if x)
            parts.append(f"{c.get('type')}={c.get('status')}" + (f" ({detail})" if detail else ""))
    for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        state = cs.get("state") or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        restarts = f", {cs['restartCount']} restarts" if cs.get("restartCount") else ""
        if last:  # why the previous attempt ended: the restarts' reason
            restarts += f" (last ended {last.get('reason', '?')}, exit {last.get('exitCode', '?')})"
        if "waiting" in state:
            w = state["waiting"]
            parts.append(f"container {cs.get('name')} waiting: {w.get('reason', '?')}"
                         + (f": {w['message']}" if w.get("message") else "") + restarts)
        elif "terminated" in state:
            t = state["terminated"]
            parts.append(f"container {cs.get('name')} terminated: {t.get('reason', '?')} exit {t.get('exitCode')}"
                         + restarts)
        elif not cs.get("ready"):
            parts.append(f"container {cs.get('name')} running, not ready{restarts}")
    if not parts and status:
        parts.append(json.dumps(status, sort_keys=True)[:300])
    return f"{name}: " + ("; ".join(parts) if parts else "no status reported")
