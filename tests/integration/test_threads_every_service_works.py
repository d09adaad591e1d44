"""
With --threads 2 the select, poll, epoll and uring models run two event
loops, each on listening sockets of its own (SO_REUSEPORT), and every
service still answers as its RFC says: echo, discard, daytime, chargen,
time and upper over TCP and UDP, and chat over TCP.

The kernel hashes each client (each TCP connection, each UDP source port)
to one loop, so every check is made from several clients: with eight, the
chance that all land on the same loop is 1 in 128.
"""

import os
import re
import struct
import time

import pytest

from harness import (IO_TIMEOUT, RFC868_EPOCH_OFFSET, SERVICES, ServerPool, chargen_stream,
                     connect, echo_roundtrip, recv_all, recv_exactly, recv_until, wait_until)
from udp_helpers import (CHARGEN_UDP_MAX, assert_chargen_pattern, collect_replies, request,
                         start_udp, udp_addr, udp_socket)

LOOP_MODELS = ["select", "poll", "epoll", "uring"]
CLIENTS = 8
DELAY = 0.1


def wait_for_loops(server, count=2, timeout=5.0):
    """Waits until the process runs count threads. The server announces its
    listeners before the other loops have bound their sockets, and a client
    that connects before then always lands on the first loop."""
    ok = wait_until(lambda: len(os.listdir(f"/proc/{server.pid}/task")) >= count, timeout)
    assert ok, f"--threads {count}: only {os.listdir(f'/proc/{server.pid}/task')} threads"


@pytest.fixture(scope="module", params=LOOP_MODELS)
def server(request):
    # TCP first: they are announced first, so they are all read by the
    # time the UDP announcements are.
    listeners = [f"tcp://127.0.0.1:0/{s}" for s in SERVICES + ["chat"]]
    listeners += [f"udp://127.0.0.1:0/{s}" for s in SERVICES]
    with ServerPool() as pool:
        server = start_udp(pool, *listeners, model=request.param,
                           options=["--threads", "2", "--delay", f"{DELAY}s", "-q"])
        assert len(server.listeners) == len(SERVICES) + 1, server.stdout_lines
        wait_for_loops(server)
        yield server
        assert server.alive(), f"the server died during the tests\n{server.describe()}"


def test_tcp_echo(server):
    for i in range(CLIENTS):
        with connect(server.addr("echo")) as c:
            payload = b"client %d " % i + bytes(range(256)) * 16
            assert echo_roundtrip(c, payload) == payload


def test_tcp_discard(server):
    for _ in range(CLIENTS):
        with connect(server.addr("discard")) as c:
            c.sendall(b"x" * 20000)
            c.shutdown(1)
            assert recv_all(c) == b""


def test_tcp_daytime(server):
    years = {str(time.localtime().tm_year).encode(), str(time.gmtime().tm_year).encode()}
    for _ in range(CLIENTS):
        with connect(server.addr("daytime")) as c:
            data = recv_all(c)
        assert data.endswith(b"\r\n") and data.count(b"\n") == 1, data
        assert any(y in data for y in years), data


def test_tcp_chargen(server):
    for _ in range(CLIENTS):
        with connect(server.addr("chargen")) as c:
            data = recv_exactly(c, 20000)
        assert data == chargen_stream(len(data))


def test_tcp_time(server):
    for _ in range(CLIENTS):
        with connect(server.addr("time")) as c:
            data = recv_all(c)
        assert len(data) == 4, data
        (seconds,) = struct.unpack("!I", data)
        assert abs(seconds - (time.time() + RFC868_EPOCH_OFFSET)) < 5, seconds


def test_tcp_upper(server):
    clients = [connect(server.addr("upper")) for _ in range(CLIENTS)]
    try:
        for i, c in enumerate(clients):
            c.sendall(b"Line %d of client\n" % i)
        for i, c in enumerate(clients):
            assert recv_until(c, b"\n") == b"LINE %d OF CLIENT\n" % i
    finally:
        for c in clients:
            c.close()


def test_udp_echo_daytime_time_from_several_sources(server):
    years = {str(time.localtime().tm_year).encode(), str(time.gmtime().tm_year).encode()}
    for i in range(CLIENTS):
        with udp_socket() as s:  # A new source port each time.
            payload = b"datagram %d" % i
            assert request(s, udp_addr(server, "echo"), payload) == payload
            day = request(s, udp_addr(server, "daytime"), b"")
            assert day.endswith(b"\n") and any(y in day for y in years), day
            t = request(s, udp_addr(server, "time"), b"")
            assert len(t) == 4, t
            (seconds,) = struct.unpack("!I", t)
            assert abs(seconds - (time.time() + RFC868_EPOCH_OFFSET)) < 5, seconds


def test_udp_upper_from_several_sources_at_once(server):
    socks = [udp_socket() for _ in range(CLIENTS)]
    try:
        for i, s in enumerate(socks):
            s.sendto(b"up %d\n" % i, udp_addr(server, "upper"))
        replies = collect_replies(socks, CLIENTS, timeout=5.0)
        got = {i: replies[s][0] for i, s in enumerate(socks) if s in replies}
    finally:
        for s in socks:
            s.close()
    assert got == {i: b"UP %d\n" % i for i in range(CLIENTS)}


def test_udp_chargen_and_discard(server):
    socks = [udp_socket() for _ in range(CLIENTS)]
    try:
        for s in socks:
            reply = request(s, udp_addr(server, "chargen"), b"x" * CHARGEN_UDP_MAX)
            assert 0 < len(reply) <= CHARGEN_UDP_MAX, len(reply)
            assert_chargen_pattern(reply)
        for i, s in enumerate(socks):
            s.sendto(b"into the void %d" % i, udp_addr(server, "discard"))
        answered = collect_replies(socks, CLIENTS, timeout=0.2)
    finally:
        for s in socks:
            s.close()
    assert not answered, f"discard answered: {list(answered.values())!r}"


JOIN_NOTICE = re.compile(rb"^\*\*\* [A-Za-z0-9_-]+ joined lobby$")


class ChatLines:
    """A chat connection read a CRLF line at a time."""

    def __init__(self, addr):
        self.sock = connect(addr)
        self.pending = b""
        welcome = self.read_line()
        m = re.match(rb"^\*\*\* welcome to sockserv chat, ([A-Za-z0-9_-]+);", welcome)
        assert m, f"not a welcome line: {welcome!r}"
        self.nick = m.group(1).decode()

    def read_line(self, timeout=IO_TIMEOUT):
        while b"\r\n" not in self.pending:
            self.pending += recv_until(self.sock, b"\r\n", timeout)
        line, _, self.pending = self.pending.partition(b"\r\n")
        return line

    def expect(self, wanted):
        """Reads up to the line wanted; only join notices may come first.
        (Lines from clients of another loop travel through that loop, so
        they need not come before this client's own answers.)"""
        while True:
            line = self.read_line()
            if line == wanted:
                return
            assert JOIN_NOTICE.match(line), f"{self.nick} got {line!r} waiting for {wanted!r}"


def test_chat_reaches_everyone_in_the_room(server):
    clients = []
    try:
        for _ in range(CLIENTS):
            clients.append(ChatLines(server.addr("chat")))
        speaker = clients[0]
        speaker.sock.sendall(b"hello across loops\n")
        for c in clients[1:]:
            c.expect(f"{speaker.nick}: hello across loops".encode())
        # The speaker's own lines would come back on its own loop, before
        # the answer to what it sends next.
        speaker.sock.sendall(f"/msg {speaker.nick} done\n".encode())
        speaker.expect(f"[private] {speaker.nick}: done".encode())
    finally:
        for c in clients:
            c.sock.close()
