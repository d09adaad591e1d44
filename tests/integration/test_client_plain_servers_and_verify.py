"""
`sockserv client` against small Python servers, run in threads of the test:
a plain TCP and UDP echo passes --verify, and one that corrupts a byte,
truncates the stream or answers late is caught or survived as it should.
"""

import socket
import subprocess
import threading
import time

import pytest

from harness import BINARY

CLIENT_TIMEOUT = 20.0


def run_client(*args, input=b""):
    """Runs `sockserv client ARGS` to completion: (status, stdout, stderr)."""
    proc = subprocess.run([BINARY, "client", *args], input=input, capture_output=True,
                          timeout=CLIENT_TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    return lines[0]


class TcpServer:
    """Accepts connections in a thread and hands each to handle(conn)."""

    def __init__(self, handle):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.handle = handle
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(10)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn):
        with conn:
            try:
                self.handle(conn)
            except OSError:
                pass

    def close(self):
        self.stopping = True
        self.thread.join(timeout=2)
        self.sock.close()


class UdpServer:
    """Receives datagrams in a thread and hands each to handle(sock, data, peer)."""

    def __init__(self, handle):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.handle = handle
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                data, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.handle(self.sock, data, peer)

    def close(self):
        self.stopping = True
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def tcp_server():
    started = []

    def start(handle):
        server = TcpServer(handle)
        started.append(server)
        return server
    yield start
    for server in started:
        server.close()


@pytest.fixture
def udp_server():
    started = []

    def start(handle):
        server = UdpServer(handle)
        started.append(server)
        return server
    yield start
    for server in started:
        server.close()


def echo_stream(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def corrupt_byte_at(offset):
    """An echo that flips the byte at the given stream offset."""
    def handle(conn):
        seen = 0
        while True:
            data = bytearray(conn.recv(65536))
            if not data:
                return
            if seen <= offset < seen + len(data):
                data[offset - seen] ^= 0x20
            seen += len(data)
            conn.sendall(data)
    return handle


def echo_datagram(sock, data, peer):
    sock.sendto(data, peer)


# -- TCP ------------------------------------------------------------------------


def test_plain_tcp_echo_passes_verify(tcp_server):
    server = tcp_server(echo_stream)
    rc, out, err = run_client(f"tcp://127.0.0.1:{server.port}/echo", "--verify", "plain", "echo")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"plain echo\n"


def test_unnamed_service_is_a_plain_stream(tcp_server):
    server = tcp_server(echo_stream)
    rc, out, err = run_client(f"tcp://127.0.0.1:{server.port}", "--verify", "whatever")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"whatever\n"


def test_verify_catches_one_corrupted_byte(tcp_server):
    server = tcp_server(corrupt_byte_at(5))
    rc, out, err = run_client(f"tcp://127.0.0.1:{server.port}/echo", "--verify", "hello", "world")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    line = one_line(err)
    assert line.startswith("sockserv client: reply differs from what was sent at byte offset 5")
    assert "expected ' '" in line and "got 0x00" in line, line
    # What did come back is still shown.
    assert out == b"hello\0world\n"


def test_verify_catches_a_corrupted_byte_deep_in_a_stream(tcp_server):
    server = tcp_server(corrupt_byte_at(3_000_000))
    data = bytes(range(256)) * (4 * 1024 * 1024 // 256)
    rc, _, err = run_client(f"tcp://127.0.0.1:{server.port}/echo", "--verify", input=data)
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert "differs from what was sent at byte offset 3000000" in one_line(err)


def test_verify_upper_catches_a_lowercase_answer(tcp_server):
    server = tcp_server(echo_stream)
    rc, out, err = run_client(f"tcp://127.0.0.1:{server.port}/upper", "--verify", "ABc")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert "differs from the uppercase of what was sent at byte offset 2" in one_line(err)
    assert "expected 'C', got 'c'" in err


def test_verify_catches_a_short_reply(tcp_server):
    def half_echo(conn):
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        conn.sendall(data[: len(data) // 2])
    server = tcp_server(half_echo)
    rc, out, err = run_client(f"tcp://127.0.0.1:{server.port}/echo", "--verify", "0123456789")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert "reply ended after 5 bytes, but 11 bytes were sent" in one_line(err)
    assert out == b"01234"


def test_verify_catches_a_long_reply(tcp_server):
    def double_echo(conn):
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data + data)
    server = tcp_server(double_echo)
    rc, _, err = run_client(f"tcp://127.0.0.1:{server.port}/echo", "--verify", "x")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert "reply is longer than what was sent" in one_line(err)


def test_tcp_reply_timeout_is_one_line(tcp_server):
    server = tcp_server(lambda conn: time.sleep(5))
    started = time.monotonic()
    rc, _, err = run_client(f"tcp://127.0.0.1:{server.port}/echo", "--timeout", "300ms", "hi")
    elapsed = time.monotonic() - started
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert one_line(err) == (
        f"sockserv client: no reply from tcp://127.0.0.1:{server.port}/echo within 300ms")
    assert elapsed < 2.5, f"took {elapsed:.1f}s"


# -- UDP ------------------------------------------------------------------------


def test_plain_udp_echo_passes_verify(udp_server):
    server = udp_server(echo_datagram)
    rc, out, err = run_client(f"udp://127.0.0.1:{server.port}/echo", "--verify", "dgram")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"dgram\n"


def test_plain_udp_echo_one_datagram_per_line(udp_server):
    seen = []

    def record(sock, data, peer):
        seen.append(data)
        sock.sendto(data, peer)
    server = udp_server(record)
    rc, out, err = run_client(f"udp://127.0.0.1:{server.port}/echo", "--verify",
                              input=b"a\nbb\nccc")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"a\nbb\nccc"
    assert seen == [b"a\n", b"bb\n", b"ccc"]


def test_udp_verify_catches_a_corrupted_byte(udp_server):
    def corrupt(sock, data, peer):
        sock.sendto(data[:2] + b"?" + data[3:], peer)
    server = udp_server(corrupt)
    rc, out, err = run_client(f"udp://127.0.0.1:{server.port}/echo", "--verify", "hello")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert one_line(err) == ("sockserv client: reply to datagram 1 differs from what was sent"
                             " at byte offset 2 (expected 'l', got '?')")
    assert out == b"he?lo\n"


def test_udp_verify_catches_a_short_reply(udp_server):
    server = udp_server(lambda sock, data, peer: sock.sendto(data[:-1], peer))
    rc, _, err = run_client(f"udp://127.0.0.1:{server.port}/echo", "--verify", "hello")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert "reply to datagram 1 is 5 bytes, but 6 were sent" in one_line(err)


def test_udp_retry_recovers_a_lost_datagram(udp_server):
    received = []

    def drop_first(sock, data, peer):
        received.append(data)
        if len(received) > 1:
            sock.sendto(data, peer)
    server = udp_server(drop_first)
    rc, out, err = run_client(f"udp://127.0.0.1:{server.port}/echo", "--verify",
                              "--timeout", "300ms", "--retries", "2", "again")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"again\n"
    assert received == [b"again\n", b"again\n"]


def test_udp_late_duplicates_are_not_taken_for_the_next_reply(udp_server):
    """Every reply comes 250 ms late, after a resend: each datagram gets
    two replies, and the second must not answer the next datagram."""
    timers = []

    def send_late(sock, data, peer):
        try:
            sock.sendto(data, peer)
        except OSError:
            pass  # The test is over and the socket closed.

    def late(sock, data, peer):
        timer = threading.Timer(0.25, send_late, args=(sock, data, peer))
        timers.append(timer)
        timer.start()
    server = udp_server(late)
    lines = b"one\ntwo\nthree\n"
    rc, out, err = run_client(f"udp://127.0.0.1:{server.port}/echo", "--verify",
                              "--timeout", "150ms", "--retries", "3", input=lines)
    for timer in timers:
        timer.cancel()
        timer.join(timeout=1)
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == lines
