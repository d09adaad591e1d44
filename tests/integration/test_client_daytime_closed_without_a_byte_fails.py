"""
A daytime (or time) server that closes without sending a byte has not
answered: `sockserv client` exits 1 with one line saying so, and prints no
empty "date". Over UDP an empty datagram in reply to daytime is the same
failure. A real sockserv daytime still succeeds (test_client_reads_every_*).
"""

import socket
import threading

import pytest

from harness import run_sockserv


def one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith("sockserv client: "), lines[0]
    return lines[0]


@pytest.fixture
def closes_at_once():
    """A TCP server that accepts each client and closes it at once."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(10)

    def serve():
        try:
            while True:
                conn, _ = listener.accept()
                conn.close()
        except OSError:
            return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.parametrize("service, says", [("daytime", "a date line"), ("time", "4 bytes")])
def test_tcp_close_without_a_byte_exits_1(closes_at_once, service, says):
    url = f"tcp://127.0.0.1:{closes_at_once}/{service}"
    rc, out, err = run_sockserv(["client", "--timeout", "3s", url], timeout=10)
    assert rc == 1, f"exit status {rc}; stdout {out!r}; stderr {err!r}"
    assert out == "", f"printed {out!r} for no reply"
    line = one_line(err)
    assert "without a reply" in line and says in line, line


def test_udp_empty_daytime_datagram_exits_1():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(10)

        def answer_empty():
            try:
                _, peer = server.recvfrom(512)
                server.sendto(b"", peer)
            except OSError:
                pass

        thread = threading.Thread(target=answer_empty, daemon=True)
        thread.start()
        url = f"udp://127.0.0.1:{server.getsockname()[1]}/daytime"
        rc, out, err = run_sockserv(["client", "--timeout", "3s", url], timeout=10)
        thread.join(5)
    assert rc == 1, f"exit status {rc}; stdout {out!r}; stderr {err!r}"
    assert out == ""
    assert "empty datagram" in one_line(err)
