"""
Connections are logged on stderr: each accept with the client's address and
the service; with -v each close too, with the bytes that went in and out;
with -q neither.
"""

import re
import socket
import time

import pytest

from harness import MODELS, connect, echo_roundtrip, recv_all


@pytest.mark.parametrize("model", MODELS)
def test_accept_is_logged_with_client_address_and_service(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model)
    with connect(server.addr("echo")) as c:
        client_port = c.getsockname()[1]
        assert echo_roundtrip(c, b"log me") == b"log me"
        server.wait_for_stderr(rf"client connected: 127\.0\.0\.1:{client_port} -> echo\b")


def test_ipv6_client_address_is_bracketed(servers, require_ipv6):
    server = servers.start("tcp://[::1]:0/echo")
    with connect(server.addr("echo", socket.AF_INET6)) as c:
        client_port = c.getsockname()[1]
        assert echo_roundtrip(c, b"v6") == b"v6"
        server.wait_for_stderr(rf"client connected: \[::1\]:{client_port} -> echo\b")


@pytest.mark.parametrize("model", MODELS)
def test_verbose_logs_close_with_bytes_in_and_out(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["-v"])
    with connect(server.addr("echo")) as c:
        client_port = c.getsockname()[1]
        assert echo_roundtrip(c, b"twelve bytes") == b"twelve bytes"
    m = server.wait_for_stderr(rf"^.*client closed: 127\.0\.0\.1:{client_port} -> echo\b.*$")
    assert "in 12 B, out 12 B" in m.group(0), f"close line without byte counts: {m.group(0)!r}"


def test_verbose_close_counts_what_the_server_sent(servers):
    server = servers.start("tcp://127.0.0.1:0/daytime", options=["-v"])
    with connect(server.addr("daytime")) as c:
        client_port = c.getsockname()[1]
        line = recv_all(c)
    m = server.wait_for_stderr(rf"^.*client closed: 127\.0\.0\.1:{client_port} -> daytime\b.*$")
    assert f"in 0 B, out {len(line)} B" in m.group(0), (
        f"daytime sent {len(line)} bytes; close line says {m.group(0)!r}")


def test_quiet_logs_no_connections(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-q"])
    for _ in range(3):
        with connect(server.addr("echo")) as c:
            assert echo_roundtrip(c, b"hush") == b"hush"
    time.sleep(0.3)
    text = server.stderr_text()
    assert not re.search(r"client (connected|closed)", text), f"-q still logged:\n{text}"
