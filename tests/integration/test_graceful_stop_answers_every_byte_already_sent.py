"""
A graceful stop answers everything a client was sending when it came: a
client caught in the middle of a stream (bytes unread in its socket, or
answers still queued for it) is read and answered until it half-closes,
within --grace, and then sees a clean end of stream (FIN), never a reset.
Past the grace period the server cuts it and says in its log what was cut.
"""

import os
import re
import signal
import socket
import threading
import time

import pytest

from harness import IO_TIMEOUT, connect, first_difference, recv_for

CLIENTS = 8
SIZE = 6 * 1024 * 1024
# Every client has this much back when SIGTERM comes: all are mid-stream.
STOP_AFTER = 256 * 1024
# Clients read slower than they send, so when the stop comes the server holds
# answers for them and their sockets hold bytes it has not read yet: the
# stream is pipelined, as a client that sends a batch of requests does.
READ_CHUNK = 128 * 1024
READ_PAUSE = 0.02


class Streamer:
    """Sends a payload into echo and half-closes, while reading it all back
    more slowly."""

    def __init__(self, addr, payload, timeout):
        self.payload = payload
        self.received = bytearray()
        self.errors = []
        self.eof = False
        self.sock = connect(addr)
        self.sock.settimeout(timeout)
        self.sender = threading.Thread(target=self.send, daemon=True)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.sender.start()
        self.reader.start()

    def send(self):
        try:
            self.sock.sendall(memoryview(self.payload))
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.errors.append(f"send: {e!r}")

    def read(self):
        try:
            while True:
                chunk = self.sock.recv(READ_CHUNK)
                if not chunk:
                    self.eof = True
                    return
                self.received += chunk
                time.sleep(READ_PAUSE)
        except OSError as e:
            self.errors.append(f"recv: {e!r}")

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in (self.sender, self.reader):
            t.join(max(0.1, deadline - time.monotonic()))
        self.sock.close()


@pytest.mark.parametrize("model", ["epoll", "uring", "thread"])
def test_sigterm_mid_stream_answers_every_byte_and_ends_with_fin(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["-q", "--grace", "10s"])
    streamers = [Streamer(server.addr("echo"), os.urandom(SIZE), timeout=30)
                 for _ in range(CLIENTS)]
    deadline = time.monotonic() + 20
    while (time.monotonic() < deadline
           and not all(len(s.received) >= STOP_AFTER or s.errors for s in streamers)):
        time.sleep(0.005)
    server.signal(signal.SIGTERM)
    mid_stream = sum(len(s.received) < SIZE // 2 for s in streamers)
    for s in streamers:
        s.join(timeout=30)
    rc = server.wait_exit(15)
    assert mid_stream > 0, "every stream was past half way at the stop: the test proves nothing"
    for i, s in enumerate(streamers):
        assert not s.errors, f"client {i}: {s.errors}\n{server.describe()}"
        got = bytes(s.received)
        assert got == s.payload, (
            f"client {i}: {len(got)} of {SIZE} bytes back, first difference at "
            f"{first_difference(got, s.payload)}\n{server.describe()}")
        assert s.eof, f"client {i}: no end of stream"
    assert rc == 0, f"exit status {rc}\n{server.describe()}"


@pytest.mark.parametrize("model", ["epoll", "uring", "thread"])
def test_client_sending_past_the_grace_period_is_cut_and_logged(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["--grace", "500ms"])
    stop_sending = threading.Event()
    with connect(server.addr("echo")) as c:
        def flood():
            chunk = b"x" * 65536
            try:
                while not stop_sending.is_set():
                    c.sendall(chunk)
            except OSError:
                pass

        flooder = threading.Thread(target=flood, daemon=True)
        flooder.start()
        time.sleep(0.3)  # Never reading: the server's queue for it fills.
        signalled = time.monotonic()
        server.signal(signal.SIGTERM)
        rc = server.wait_exit(5)
        elapsed = time.monotonic() - signalled
        stop_sending.set()
        recv_for(c, 0.2)
        flooder.join(IO_TIMEOUT)
    assert rc == 0, f"exit status {rc}\n{server.describe()}"
    assert elapsed < 3.0, f"a client that never stops sending held the server {elapsed:.1f}s"
    assert server.wait_for_stderr(r"grace period over: .*\d+ bytes unread, \d+ unsent", 2.0)
