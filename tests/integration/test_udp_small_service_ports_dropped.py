"""
The loop defence (CERT CA-1996-01): a datagram whose source port is a
small-service port (echo 7, chargen 19, ...) is dropped unanswered under
every model, so two such services can never bounce datagrams between them
forever. The drops are logged at most once a second per reason, not once
per datagram, and counted in a total at shutdown.
"""

import re
import signal
import socket
import time

import pytest

from harness import MODELS
from udp_helpers import datagrams_within, request, start_udp, udp_addr, udp_socket

DROP_LINE = re.compile(r"^.*dropped \d+ datagrams? \(source port.*$", re.MULTILINE)


def bind_or_skip(port):
    try:
        return udp_socket(bind=("127.0.0.1", port))
    except PermissionError as e:
        pytest.skip(f"cannot bind UDP port {port} as a client (needs root): {e}")
    except OSError as e:
        pytest.skip(f"UDP port {port} is taken on this machine: {e}")


@pytest.mark.parametrize("model", MODELS)
def test_datagrams_from_ports_7_and_19_get_no_answer(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/echo", "udp://127.0.0.1:0/chargen",
                       model=model)
    socks = {port: bind_or_skip(port) for port in (7, 19)}
    try:
        for sock in socks.values():
            for service in ("echo", "chargen"):
                sock.sendto(b"bounce me " + service.encode(), udp_addr(server, service))
        time.sleep(0.3)
        got = {port: datagrams_within(sock, 0.01) for port, sock in socks.items()}
    finally:
        for sock in socks.values():
            sock.close()
    assert got == {7: [], 19: []}, f"{model}: a small-service source port was answered: {got!r}"
    # The same request from an ordinary port is served: only the port mattered.
    with udp_socket() as s:
        assert request(s, udp_addr(server, "echo"), b"bounce me echo") == b"bounce me echo"


def test_drops_are_logged_once_a_second_not_per_datagram(servers):
    server = start_udp(servers, "udp://127.0.0.1:0/echo")
    with bind_or_skip(19) as s:
        for i in range(50):
            s.sendto(b"loop %d" % i, udp_addr(server, "echo"))
        server.wait_for_stderr(DROP_LINE.pattern)
        time.sleep(0.3)
        assert datagrams_within(s, 0.01) == []
    lines = DROP_LINE.findall(server.stderr_text())
    assert 1 <= len(lines) <= 2, (
        f"50 dropped datagrams were logged in {len(lines)} lines:\n" + "\n".join(lines[:10]))
    assert "127.0.0.1:19" in lines[0], lines[0]
    server.signal(signal.SIGTERM)
    assert server.wait_exit(5.0) == 0, server.describe()
    server.wait_for_stderr(r"dropped 50 datagrams in all \(source port", timeout=2.0)


def test_ipv6_source_port_7_is_dropped_too(servers, require_ipv6):
    server = start_udp(servers, "udp://[::1]:0/echo")
    try:
        sock = udp_socket(socket.AF_INET6, bind=("::1", 7))
    except OSError as e:
        pytest.skip(f"cannot bind [::1]:7 as a client: {e}")
    with sock:
        sock.sendto(b"v6 loop", udp_addr(server, "echo", socket.AF_INET6))
        assert datagrams_within(sock, 0.3) == []
    with udp_socket(socket.AF_INET6) as s:
        assert request(s, udp_addr(server, "echo", socket.AF_INET6), b"v6 ok") == b"v6 ok"
