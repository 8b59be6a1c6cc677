"""Probe result formatting and classification (pure: no broker, no database)."""

from __future__ import annotations

import io
import json

import pytest

from kubegate.services.probes import cli
from kubegate.services.probes.amqp import check_sequence
from kubegate.services.probes.mongosh import parse_show_dbs, show_dbs_command
from kubegate.services.probes.result import (
    AUTH_FAILURE,
    CLOSED,
    NAME_RESOLUTION,
    PROTOCOL,
    REFUSED,
    TIMEOUT,
    ProbeResult,
    classify_failure,
    fail,
    format_failure,
    one_line,
    redact,
    target_of,
)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # pymongo
        ("ServerSelectionTimeoutError: db:27017: [Errno 111] Connection refused (configured timeouts: "
         "socketTimeoutMS: 5000.0ms), Timeout: 5.0s", REFUSED),
        ("ServerSelectionTimeoutError: 10.247.0.10:27017: timed out (configured timeouts: ...)", TIMEOUT),
        ("ServerSelectionTimeoutError: nosuch:27017: [Errno -2] Name or service not known", NAME_RESOLUTION),
        ("OperationFailure: Authentication failed., full error: {'ok': 0.0, 'code': 18}", AUTH_FAILURE),
        # proton
        ("ConnectionException: Connection amqp://msg:5672 disconnected: Condition('amqp:unauthorized-access', "
         "'Authentication failed [mech=PLAIN]')", AUTH_FAILURE),
        ("ConnectionException: Connection amqp://msg:5672 disconnected: Condition('proton.pythonio', "
         "'Connection refused to all addresses')", REFUSED),
        ("ConnectionException: Connection amqp://msg:5672 disconnected: Condition('amqp:connection:framing-error', "
         "\"Expected AMQP protocol header got: AMQP SASL layer\")", PROTOCOL),
        ("Timeout: Connection amqp://msg:5672 timed out: Opening connection", TIMEOUT),
        ("ConnectionException: Connection amqp://msg:5672 disconnected", CLOSED),
        # mongosh
        ("MongoNetworkError: connect ECONNREFUSED 127.0.0.1:27017", REFUSED),
        ("MongoServerSelectionError: getaddrinfo ENOTFOUND db", NAME_RESOLUTION),
        ("something else entirely", "error"),
    ],
)
def test_classify_failure(text: str, kind: str) -> None:
    assert classify_failure(text) == kind


def test_format_failure_names_target_origin_and_answer() -> None:
    msg = format_failure("mongo", "db:27017", "client-abc", REFUSED, "[Errno 111]\n Connection refused",
                         action="listDatabases")
    assert msg == "mongo: tried listDatabases at db:27017 from client-abc: refused ([Errno 111] Connection refused)"


def test_one_line_cuts_long_text() -> None:
    out = one_line("x " * 500, limit=50)
    assert len(out) == 50 and out.endswith("...") and "\n" not in out


def test_redact_removes_secrets_and_url_userinfo() -> None:
    text = "Connection amqp://alice:s3cret@msg:5672 failed; password s3cret rejected"
    out = redact(text, ["s3cret", None, ""])
    assert "s3cret" not in out and "alice" not in out and "amqp://***@msg:5672" in out


def test_fail_builds_a_one_line_error_and_keeps_details() -> None:
    r = fail("amqp", "msg:5672", 100.0, 150.5, "ConnectionException: Condition('amqp:unauthorized-access', "
             "'Authentication failed [mech=PLAIN]')\nmore", action="connect (SASL PLAIN)",
             details={"queue": "kubegate.q"}, secrets=["hunter2"])
    assert not r.ok and r.latency_ms == pytest.approx(50.5)
    assert r.details == {"queue": "kubegate.q", "failure": AUTH_FAILURE}
    assert r.error is not None and "\n" not in r.error
    assert r.error.startswith(f"amqp: tried connect (SASL PLAIN) at msg:5672 from {r.source}: auth failure (")


def test_result_json_is_one_line_with_the_contract_keys() -> None:
    r = ProbeResult(probe="mongo", target="db:27017", ok=True, latency_ms=12.3456, source="client-1",
                    details={"databases": ["kubegate"], "multi": "a\nb"})
    line = r.to_json()
    assert "\n" not in line
    data = json.loads(line)
    assert data == {"probe": "mongo", "ok": True, "latency_ms": 12.35, "target": "db:27017", "from": "client-1",
                    "details": {"databases": ["kubegate"], "multi": "a\nb"}, "error": None}
    assert r.summary() == "ok mongo db:27017 from client-1 in 12.3 ms"


def test_target_of_brackets_ipv6() -> None:
    assert target_of("10.247.0.10", 27017) == "10.247.0.10:27017"
    assert target_of("fd00::1", 5672) == "[fd00::1]:5672"


def test_check_sequence() -> None:
    run = "r1"
    good = [{"run": run, "seq": i} for i in range(5)]
    assert check_sequence(run, good, 5) is None
    assert "duplicated: seq [2]" in str(check_sequence(run, [*good, {"run": run, "seq": 2}], 5))
    assert "missing 1 of 5: seq [4]" in str(check_sequence(run, good[:4], 5))
    swapped = [good[0], good[2], good[1], good[3], good[4]]
    assert "out of order at position 1: got seq 2" in str(check_sequence(run, swapped, 5))
    assert "not from this run" in str(check_sequence(run, [{"run": "old", "seq": 0}, *good], 5))
    assert "not from this run" in str(check_sequence(run, ["plain text"], 1))


def test_parse_show_dbs_strips_the_prompt() -> None:
    out = "test> kubegate  24.00 KiB\nadmin   40.00 KiB\nlocal  72 B\ntest> "
    assert parse_show_dbs(out) == ["kubegate", "admin", "local"]
    assert parse_show_dbs("MongoNetworkError: connect ECONNREFUSED 127.0.0.1:27017") == []


def test_show_dbs_command_is_the_seed_pipeline() -> None:
    cmd = show_dbs_command("/opt/node/bin/mongosh", "10.245.1.3", 27017, 5)
    assert cmd.startswith('echo "show dbs" | /opt/node/bin/mongosh --quiet ')
    assert "'mongodb://10.245.1.3:27017/?directConnection=true&serverSelectionTimeoutMS=5000'" in cmd


def test_cli_amqp_without_credentials_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(cli.USERNAME_ENV, raising=False)
    monkeypatch.delenv(cli.PASSWORD_ENV, raising=False)
    assert cli.main(["amqp", "--host", "msg", "--json"]) == 2
    err = capsys.readouterr().err
    assert "KUBEGATE_MSG_USERNAME" in err and err[-1] == "\n" and err.count("\n") == 1


def test_cli_reads_credentials_from_stdin_not_argv() -> None:
    args = cli.build_parser().parse_args(["amqp", "--host", "msg", "--credentials-stdin"])
    assert cli.read_credentials(args, io.StringIO("user\npass\n")) == ("user", "pass")
    assert cli.read_credentials(args, io.StringIO("user\n")) is None


def test_service_connections_reach_every_endpoint_with_high_probability() -> None:
    from kubegate.services.probes.amqp import service_connections
    assert service_connections(1) == 3
    for k in (2, 3, 5):
        n = service_connections(k)
        assert k * (1 - 1 / k) ** n < 0.001 <= k * (1 - 1 / k) ** (n - 1)
    assert service_connections(3) == 20


def test_parse_endpoints_names_each_address() -> None:
    from kubegate.services.probes.amqp import parse_endpoints
    assert parse_endpoints("10.246.1.5=msg-a, 10.246.2.7=msg-b,") == {"10.246.1.5": "msg-a", "10.246.2.7": "msg-b"}
    assert parse_endpoints("10.246.1.5") == {"10.246.1.5": "10.246.1.5"}
