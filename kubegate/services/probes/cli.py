"""`kubegate-probe`: run one probe, print one result line, exit 0 only when it passed.

    kubegate-probe mongo   --host db [--port 27017] [--database kubegate --collection probe] [--json]
    kubegate-probe mongosh --host db [--port 27017] [--write-marker DB] [--json]  # echo "show dbs" | mongosh
    kubegate-probe amqp    --host msg [--port 5672] [--count 100] [--queue kubegate.x] [--json]
    kubegate-probe amqp    --host msg --expect-refused [--json]       # bad/no credentials must be refused
    kubegate-probe amqp    --host msg --every-endpoint 10.246.1.5=msg-x [--endpoint-port 5672]
    kubegate-probe http    --host web [--port 80] [--path /] [--expect-status 200] [--expect-body TEXT]

AMQP credentials never go on the command line (it shows in process lists and kubectl logs): they
come from KUBEGATE_MSG_USERNAME / KUBEGATE_MSG_PASSWORD, or with --credentials-stdin from two
lines on standard input (username, then password), e.g. `kubectl exec -i POD -- kubegate-probe
amqp --host msg --credentials-stdin --json`.

Exit codes: 0 passed, 1 the probe failed, 2 usage error (bad arguments, missing credentials).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from .result import ProbeResult

USERNAME_ENV = "KUBEGATE_MSG_USERNAME"
PASSWORD_ENV = "KUBEGATE_MSG_PASSWORD"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubegate-probe",
        description="Real client traffic against kubegate's db (MongoDB wire) and msg (AMQP 1.0) services.",
    )
    sub = parser.add_subparsers(dest="probe", required=True, metavar="{mongo,mongosh,amqp,http}")

    def common(p: argparse.ArgumentParser, port: int, timeout: float) -> None:
        p.add_argument("--host", required=True, help="service name, ClusterIP, external IP or container name")
        p.add_argument("--port", type=int, default=port, help=f"default {port}")
        p.add_argument("--timeout", type=float, default=timeout, help=f"seconds per network step (default {timeout})")
        p.add_argument("--json", action="store_true", help="print the result as one JSON line")

    mongo = sub.add_parser("mongo", help="list databases, write a document and read it back (pymongo)")
    common(mongo, 27017, 5.0)
    mongo.add_argument("--database", default="kubegate")
    mongo.add_argument("--collection", default="probe")
    mongo.add_argument("--read-id", help="skip the write; read back this document id (written elsewhere)")

    shell = sub.add_parser("mongosh", help='echo "show dbs" | mongosh mongodb://HOST:PORT')
    common(shell, 27017, 10.0)
    shell.add_argument("--mongosh", help="mongosh binary (default: $KUBEGATE_CACHE/node, then PATH)")
    shell.add_argument("--write-marker", metavar="DATABASE",
                       help="first write a document into DATABASE (pymongo), so `show dbs` must list it")

    amqp = sub.add_parser("amqp", help="send N numbered messages and receive them in order exactly once")
    common(amqp, 5672, 10.0)
    amqp.add_argument("--count", type=int, default=100)
    amqp.add_argument("--queue", help="queue address (default: a fresh kubegate.probe.<random>)")
    amqp.add_argument("--credentials-stdin", action="store_true",
                      help="read username and password as two lines from standard input")
    amqp.add_argument("--expect-refused", action="store_true",
                      help="pass only if a wrong password, no credentials and no SASL are all refused")
    amqp.add_argument("--every-endpoint", metavar="ADDR=NAME,...",
                      help="also check each of the Service's endpoints directly and hit each through --host")
    amqp.add_argument("--endpoint-port", type=int, help="the endpoints' port (the Service's targetPort)")
    http = sub.add_parser("http", help="GET a path; check the status and, with --expect-body, the body")
    common(http, 80, 5.0)
    http.add_argument("--path", default="/")
    http.add_argument("--expect-status", type=int, default=200)
    http.add_argument("--expect-body", help="text the body must contain")
    return parser


def read_credentials(args: argparse.Namespace, stdin: TextIO) -> tuple[str, str] | None:
    """(username, password) from stdin (--credentials-stdin) or the environment; None if absent."""
    if args.credentials_stdin:
        lines = stdin.read().splitlines()
        if len(lines) >= 2 and lines[0] and lines[1]:
            return lines[0], lines[1]
        return None
    user, password = os.environ.get(USERNAME_ENV), os.environ.get(PASSWORD_ENV)
    return (user, password) if user and password else None


def run(args: argparse.Namespace, stdin: TextIO) -> ProbeResult | str:
    """The probe's result, or a usage error message."""
    if args.probe == "mongo":
        from .mongo import probe_mongo

        return probe_mongo(args.host, args.port, database=args.database, collection=args.collection,
                           read_id=args.read_id,
                           timeout_s=args.timeout)
    if args.probe == "mongosh":
        from .mongosh import show_dbs

        if args.write_marker:
            from .mongo import probe_mongo

            wrote = probe_mongo(args.host, args.port, database=args.write_marker, timeout_s=args.timeout)
            if not wrote.ok:
                return wrote
        listed = show_dbs(args.host, args.port, mongosh=args.mongosh, timeout_s=args.timeout)
        if args.write_marker:
            listed.details["marker"] = args.write_marker
        return listed

    if args.probe == "http":
        from .http import probe_http

        return probe_http(args.host, args.port, path=args.path, expect_status=args.expect_status,
                          expect_body=args.expect_body, timeout_s=args.timeout)
    from .amqp import parse_endpoints, probe_amqp, probe_amqp_every_endpoint, probe_amqp_refused

    creds = read_credentials(args, stdin)
    if args.expect_refused:
        return probe_amqp_refused(args.host, args.port, username=creds[0] if creds else None,
                                  timeout_s=args.timeout)
    if creds is None:
        where = "two lines on standard input" if args.credentials_stdin else f"${USERNAME_ENV} and ${PASSWORD_ENV}"
        return f"kubegate-probe amqp: no credentials: set {where} (from the Secret msg-credentials)"
    if args.count < 1:
        return "kubegate-probe amqp: --count must be at least 1"
    result = probe_amqp(args.host, args.port, username=creds[0], password=creds[1], queue=args.queue,
                        count=args.count, timeout_s=args.timeout)
    if result.ok and args.every_endpoint:
        every = probe_amqp_every_endpoint(args.host, args.port, parse_endpoints(args.every_endpoint),
                                          username=creds[0], password=creds[1], endpoint_port=args.endpoint_port,
                                          timeout_s=args.timeout)
        every.details = {**result.details, **every.details}
        every.probe, every.latency_ms = "amqp", result.latency_ms + every.latency_ms
        return every
    return result


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = stdout or sys.stdout
    result = run(args, stdin or sys.stdin)
    if isinstance(result, str):
        print(result, file=sys.stderr)
        return 2
    print(result.to_json() if args.json else result.summary(), file=out, flush=True)
    return 0 if result.ok else 1
