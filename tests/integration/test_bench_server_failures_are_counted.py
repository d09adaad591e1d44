"""
What the server does wrong is counted, never a hang or a crash: a refusing
target, a server that dies mid-run, one that answers wrongly, one that
never answers, and one that answers in dribbles (which is fine: a reply
split across reads is put back together).
"""

import json
import socket
import threading
import time

import pytest

from harness import run_sockserv


class TinyServer:
    """A TCP server on 127.0.0.1 that runs handler(conn) per connection."""

    def __init__(self, handler):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            self.handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.closing = True
        self.sock.close()


@pytest.fixture
def tiny_servers():
    made = []

    def start(handler):
        server = TinyServer(handler)
        made.append(server)
        return server

    yield start
    for server in made:
        server.close()


def bench(args, timeout=15):
    start = time.monotonic()
    rc, out, err = run_sockserv(["bench", "--json", *args], timeout=timeout)
    return rc, json.loads(out), err, time.monotonic() - start


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refusing_target_counts_refusals_and_exits_1():
    rc, result, err, took = bench(["-c", "4", "-d", "500ms", f"tcp://127.0.0.1:{free_port()}"])
    assert rc == 1
    assert "no request succeeded" in err
    assert len(err.strip().splitlines()) == 1
    assert result["requests"] == 0
    assert result["errors"]["refused"] > 0
    assert result["connections_failed"] == result["errors"]["refused"]
    assert result["connections_made"] == 0
    assert result["latency_us"] is None
    assert took < 3


def test_server_dying_mid_run_is_counted_as_resets_and_refusals(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="thread", options=["-q"])
    host, port = server.addr("echo")
    killer = threading.Timer(0.7, server.proc.kill)
    killer.start()
    try:
        rc, result, err, took = bench(["-c", "10", "-d", "2s", f"tcp://{host}:{port}"])
    finally:
        killer.cancel()
    assert rc == 0, err  # Some requests succeeded before the end.
    assert result["requests"] > 0
    assert result["errors"]["reset"] >= 1, result["errors"]
    assert result["errors"]["refused"] >= 1, result["errors"]
    assert result["errors"]["mismatch"] == 0
    assert took < 2 + 5 + 1


def test_wrong_replies_are_mismatches(tiny_servers):
    def liar(conn):
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data.replace(b"a", b"b"))

    server = tiny_servers(liar)
    rc, result, err, _ = bench(["-c", "3", "-d", "500ms", f"tcp://127.0.0.1:{server.port}"])
    assert rc == 1
    assert result["requests"] == 0
    assert result["errors"]["mismatch"] > 0


def test_silent_server_times_out_within_duration_plus_timeout(tiny_servers):
    def silent(conn):
        while conn.recv(65536):
            pass

    server = tiny_servers(silent)
    rc, result, err, took = bench(["-c", "5", "-d", "1s", "--timeout", "300ms",
                                   f"tcp://127.0.0.1:{server.port}"])
    assert rc == 1
    assert result["errors"]["timeout"] >= 5
    assert result["connections_made"] >= 5
    # Never longer than duration plus timeout (plus process start-up).
    assert took < 1 + 0.3 + 0.7, f"took {took:.2f}s"


def test_reply_split_across_reads_is_reassembled(tiny_servers):
    def dribbler(conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = conn.recv(65536)
            if not data:
                return
            for i in range(0, len(data), 7):
                conn.sendall(data[i:i + 7])
                time.sleep(0.001)

    server = tiny_servers(dribbler)
    rc, result, err, _ = bench(["-c", "2", "-p", "3", "-s", "50", "-d", "700ms",
                                f"tcp://127.0.0.1:{server.port}"])
    assert rc == 0, err
    assert result["requests"] > 0
    assert result["requests_failed"] == 0, result["errors"]


def test_closing_server_is_counted_as_reset(tiny_servers):
    def one_reply_then_close(conn):
        data = conn.recv(65536)
        conn.sendall(data)
        time.sleep(0.05)

    server = tiny_servers(one_reply_then_close)
    rc, result, err, took = bench(["-c", "2", "-d", "500ms", "-s", "16",
                                   f"tcp://127.0.0.1:{server.port}"])
    assert rc == 0, err
    assert result["requests"] > 0
    assert result["errors"]["reset"] > 0
    assert result["connections_made"] > 2  # It reconnected after each close.
    assert took < 3
