"""What a suite asks a probe, as typed Python: the claim reads as the seed's, and the probe's
command line (kubegate-probe's argv) is written in one place, not by hand in every suite.

    node_probe(node, "amqp send/receive via portal IP",
               Amqp.portal("msg", count=50, every_endpoint=endpoints, endpoint_port=port))

`$VAR` hosts and ports expand inside the client pod (the Service's environment variables, the
seed's discovery path); the same asks run on the host with literal addresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self


def _portal(service: str) -> tuple[str, str]:
    """The Service's portal IP and port as the pod sees them: `$DB_SERVICE_HOST`, `$DB_SERVICE_PORT`."""
    prefix = service.upper().replace("-", "_").replace(".", "_")
    return f"${prefix}_SERVICE_HOST", f"${prefix}_SERVICE_PORT"


@dataclass(frozen=True)
class _Ask:
    host: str
    port: int | str | None = None
    timeout: float | None = None

    probe: ClassVar[str] = ""  # kubegate-probe's subcommand
    service: ClassVar[str] = ""  # the Service `portal()` reaches

    @classmethod
    def portal(cls, **kw: Any) -> Self:
        """Through the Service's portal IP, as the pod's environment names it."""
        host, port = _portal(cls.service)
        return cls(host, port, **kw)

    def args(self) -> list[str]:
        out = [self.probe, "--host", self.host]
        if self.port is not None:
            out += ["--port", str(self.port)]
        if self.timeout is not None:
            out += ["--timeout", f"{self.timeout:g}"]
        return out + self._extra()

    def _extra(self) -> list[str]:
        return []


@dataclass(frozen=True)
class Mongo(_Ask):
    """pymongo: list databases, write a document and read it back (or read `read_id` only)."""

    database: str | None = None
    read_id: str | None = None
    probe: ClassVar[str] = "mongo"
    service: ClassVar[str] = "db"

    def _extra(self) -> list[str]:
        return [*(["--database", self.database] if self.database else []),
                *(["--read-id", self.read_id] if self.read_id else [])]


@dataclass(frozen=True)
class Mongosh(_Ask):
    """`echo "show dbs" | mongosh`, after writing `write_marker` (pymongo) so the listing must show it."""

    write_marker: str | None = None
    probe: ClassVar[str] = "mongosh"
    service: ClassVar[str] = "db"

    def _extra(self) -> list[str]:
        return ["--write-marker", self.write_marker] if self.write_marker else []


@dataclass(frozen=True)
class Amqp(_Ask):
    """`count` numbered messages sent and received exactly once, in order; or, `expect_refused`,
    wrong, missing and SASL-less logins refused. `every_endpoint` (address -> pod) also checks
    each endpoint directly. Credentials come on stdin in a pod (`credentials_stdin`), from the
    environment on the host."""

    count: int | None = None
    expect_refused: bool = False
    every_endpoint: Mapping[str, str] = field(default_factory=dict)
    endpoint_port: int | None = None
    credentials_stdin: bool = False
    probe: ClassVar[str] = "amqp"
    service: ClassVar[str] = "msg"

    @classmethod
    def portal(cls, **kw: Any) -> Self:
        """In a client pod the credentials come on stdin (never on a command line)."""
        return super().portal(credentials_stdin=True, **kw)

    def _extra(self) -> list[str]:
        out = [*(["--count", str(self.count)] if self.count is not None else []),
               *(["--expect-refused"] if self.expect_refused else []),
               *(["--credentials-stdin"] if self.credentials_stdin else [])]
        if self.every_endpoint:
            out += ["--every-endpoint", ",".join(f"{a}={n}" for a, n in sorted(self.every_endpoint.items()))]
        if self.endpoint_port is not None:
            out += ["--endpoint-port", str(self.endpoint_port)]
        return out


@dataclass(frozen=True)
class Http(_Ask):
    """GET `path`: the status must be `expect_status` and the body contain `expect_body`. For a
    user's own Service: `Http.portal(service="web", path="/")` or `Http("10.247.0.5", 80)`."""

    path: str = "/"
    expect_status: int = 200
    expect_body: str | None = None
    probe: ClassVar[str] = "http"

    @classmethod
    def to_service(cls, service: str, **kw: Any) -> Self:
        """Through `service`'s portal IP, as the pod's environment names it."""
        host, port = _portal(service)
        return cls(host, port, **kw)

    def _extra(self) -> list[str]:
        return ["--path", self.path, "--expect-status", str(self.expect_status),
                *(["--expect-body", self.expect_body] if self.expect_body is not None else [])]


Ask = Mongo | Mongosh | Amqp | Http
