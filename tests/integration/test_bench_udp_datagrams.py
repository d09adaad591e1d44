"""
Over UDP one request is one datagram and one reply is one datagram. These
run against small UDP servers made here, so they hold whatever sockserv
serve supports: an echo that answers, one that drops every other datagram
(lost requests are timeouts, the socket goes on), one that answers wrongly,
and a port where nothing listens (refusals, via ICMP).
"""

import json
import socket
import threading

import pytest

from harness import run_sockserv


class UdpServer:
    def __init__(self, answer):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.seen = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.seen += 1
            reply = self.answer(data, self.seen)
            if reply is not None:
                self.sock.sendto(reply, peer)

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def udp_server():
    made = []

    def start(answer):
        made.append(UdpServer(answer))
        return made[-1]

    yield start
    for s in made:
        s.close()


def bench(args, timeout=15):
    rc, out, err = run_sockserv(["bench", "--json", *args], timeout=timeout)
    return rc, json.loads(out), err


def test_udp_echo_requests_are_datagrams(udp_server):
    server = udp_server(lambda data, n: data)
    rc, result, err = bench(["-n", "300", "-c", "3", "-s", "200",
                             f"udp://127.0.0.1:{server.port}"])
    assert rc == 0, err
    assert result["transport"] == "udp"
    assert result["requests"] == 300
    assert result["requests_failed"] == 0
    assert server.seen == 300
    assert result["bytes_sent"] == 300 * 200


def test_udp_upper_replies_are_checked(udp_server):
    server = udp_server(lambda data, n: data.upper())
    rc, result, err = bench(["-n", "50", "-c", "2", "--expect", "upper", "-m", "hello {n}",
                             f"udp://127.0.0.1:{server.port}"])
    assert rc == 0, err
    assert result["requests"] == 50 and result["requests_failed"] == 0
    rc, result, err = bench(["-n", "50", "-c", "2", "--expect", "echo",
                             f"udp://127.0.0.1:{server.port}"])
    assert rc == 1
    assert result["errors"]["mismatch"] == 50


def test_lost_datagrams_are_timeouts(udp_server):
    server = udp_server(lambda data, n: data if n % 2 else None)
    rc, result, err = bench(["-n", "40", "-c", "2", "--timeout", "200ms",
                             f"udp://127.0.0.1:{server.port}"])
    assert rc == 0, err
    assert result["requests"] + result["errors"]["timeout"] == 40
    assert result["errors"]["timeout"] >= 15
    # One socket per connection the whole run: a loss is not a reconnect.
    assert result["connections_made"] == 2


def test_closed_udp_port_is_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc, result, err = bench(["-d", "500ms", "-c", "2", f"udp://127.0.0.1:{port}"])
    assert rc == 1
    assert result["errors"]["refused"] > 0
    assert result["requests"] == 0
