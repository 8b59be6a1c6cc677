"""wait_accepting: a Service counts as deployed only once its address takes connections."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from kubegate.errors import KubegateError
from kubegate.services.deploy import wait_accepting


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_returns_once_the_port_starts_listening() -> None:
    port = _free_port()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def listen_later() -> None:
        time.sleep(0.5)
        server.bind(("127.0.0.1", port))
        server.listen()

    t = threading.Thread(target=listen_later)
    t.start()
    try:
        started = time.monotonic()
        wait_accepting("127.0.0.1", [port], "test pods", timeout=10)
        assert 0.4 < time.monotonic() - started < 5
    finally:
        t.join()
        server.close()


def test_a_port_that_keeps_refusing_is_named() -> None:
    port = _free_port()
    with pytest.raises(KubegateError, match=rf"test pods Ready, but 127.0.0.1:{port} still refuses after 1 s"):
        wait_accepting("127.0.0.1", [port], "test pods", timeout=1)
