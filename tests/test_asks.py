"""Typed asks write the probe's command line the probe itself parses: what a suite claims is
what the probe is told."""

from __future__ import annotations

from kubegate.services.asks import Amqp, Mongo, Mongosh
from kubegate.services.probes.cli import build_parser


def test_the_amqp_portal_ask_is_the_probes_own_argv() -> None:
    ask = Amqp.portal(count=50, every_endpoint={"10.246.2.5": "msg-b", "10.246.1.4": "msg-a"}, endpoint_port=5672)
    assert ask.args() == ["amqp", "--host", "$MSG_SERVICE_HOST", "--port", "$MSG_SERVICE_PORT", "--count", "50",
                          "--credentials-stdin", "--every-endpoint", "10.246.1.4=msg-a,10.246.2.5=msg-b",
                          "--endpoint-port", "5672"]
    parsed = build_parser().parse_args([a.replace("$MSG_SERVICE_PORT", "5672") for a in ask.args()])
    assert (parsed.count, parsed.credentials_stdin, parsed.endpoint_port) == (50, True, 5672)


def test_mongo_and_mongosh_asks_parse() -> None:
    for ask in (Mongo("10.245.1.3", port=27018, timeout=1), Mongo.portal(database="kg_x", read_id="abc"),
                Mongosh.portal(write_marker="kg_y"), Amqp("10.245.1.3", expect_refused=True)):
        args = [a.replace("$DB_SERVICE_PORT", "27017").replace("$MSG_SERVICE_PORT", "5672") for a in ask.args()]
        parsed = build_parser().parse_args(args)
        assert parsed.probe == ask.probe
    assert Mongo("h", timeout=1).args() == ["mongo", "--host", "h", "--timeout", "1"]
