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


def test_the_http_ask_for_users_services_parses_and_probes_a_real_server() -> None:
    import http.server
    import threading

    from kubegate.services.asks import Http
    from kubegate.services.probes.http import probe_http

    ask = Http.to_service("web", path="/healthz", expect_body="ok")
    assert ask.args() == ["http", "--host", "$WEB_SERVICE_HOST", "--port", "$WEB_SERVICE_PORT", "--path", "/healthz",
                          "--expect-status", "200", "--expect-body", "ok"]
    parsed = build_parser().parse_args([a.replace("$WEB_SERVICE_PORT", "80") for a in ask.args()])
    assert (parsed.path, parsed.expect_status, parsed.expect_body) == ("/healthz", 200, "ok")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"hello" if self.path == "/hi" else b"nope"
            self.send_response(200 if self.path == "/hi" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        assert probe_http("127.0.0.1", port, path="/hi", expect_body="hell").ok
        wrong = probe_http("127.0.0.1", port, path="/hi", expect_body="bye")
        assert not wrong.ok and "body lacks 'bye'" in (wrong.error or "")
        missing = probe_http("127.0.0.1", port, path="/x")
        assert not missing.ok and "status 404, expected 200" in (missing.error or "")
    finally:
        server.shutdown()
        server.server_close()
    refused = probe_http("127.0.0.1", port, timeout_s=2)
    assert not refused.ok and refused.details["failure"] == "refused", refused.error


def test_asks_reach_the_probe_in_a_pod_as_written_but_env_references_expand() -> None:
    import subprocess

    from kubegate.services.asks import Http
    from kubegate.services.clients import _shell_word

    ask = Http.to_service("web", path="/echo?msg=a b", expect_body="a b from echo-*")
    script = "printf '%s\\n' " + " ".join(_shell_word(a) for a in ask.args())
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True,
                         env={"WEB_SERVICE_HOST": "10.247.0.9", "WEB_SERVICE_PORT": "80"}).stdout.splitlines()
    assert out == ["http", "--host", "10.247.0.9", "--port", "80", "--path", "/echo?msg=a b", "--expect-status", "200",
                   "--expect-body", "a b from echo-*"]
