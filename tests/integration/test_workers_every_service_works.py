"""
With --workers 2 a supervisor binds the listeners and two worker processes
serve from them, and every service still answers as its RFC says over TCP
and UDP: echo, discard, daytime, chargen, time and upper. (Chat needs its
clients in one process; test_workers_chat_refused.py covers it.)

Either worker may take a client, so each check is made from several.
"""

import struct
import time

import pytest

from harness import (RFC868_EPOCH_OFFSET, SERVICES, ServerPool, chargen_stream, connect,
                     echo_roundtrip, recv_all, recv_exactly, recv_until)
from udp_helpers import (CHARGEN_UDP_MAX, assert_chargen_pattern, collect_replies, request,
                         start_udp, udp_addr, udp_socket)

WORKER_MODELS = ["epoll", "uring", "thread"]
CLIENTS = 8
DELAY = 0.1


@pytest.fixture(scope="module", params=WORKER_MODELS)
def server(request):
    listeners = [f"tcp://127.0.0.1:0/{s}" for s in SERVICES]
    listeners += [f"udp://127.0.0.1:0/{s}" for s in SERVICES]
    with ServerPool() as pool:
        server = start_udp(pool, *listeners, model=request.param,
                           options=["--workers", "2", "--delay", f"{DELAY}s", "-q"])
        assert len(server.listeners) == len(SERVICES), server.stdout_lines
        yield server
        assert server.alive(), f"the supervisor died during the tests\n{server.describe()}"


def current_year_strings():
    return {str(time.localtime().tm_year).encode(), str(time.gmtime().tm_year).encode()}


def assert_rfc868_now(data):
    assert len(data) == 4, data
    (seconds,) = struct.unpack("!I", data)
    assert abs(seconds - (time.time() + RFC868_EPOCH_OFFSET)) < 5, seconds


def test_tcp_echo_discard_daytime_time_chargen(server):
    years = current_year_strings()
    for i in range(CLIENTS):
        with connect(server.addr("echo")) as c:
            payload = b"client %d " % i + bytes(range(256)) * 16
            assert echo_roundtrip(c, payload) == payload
        with connect(server.addr("discard")) as c:
            c.sendall(b"x" * 20000)
            c.shutdown(1)
            assert recv_all(c) == b""
        with connect(server.addr("daytime")) as c:
            day = recv_all(c)
        assert day.endswith(b"\r\n") and day.count(b"\n") == 1, day
        assert any(y in day for y in years), day
        with connect(server.addr("time")) as c:
            assert_rfc868_now(recv_all(c))
        with connect(server.addr("chargen")) as c:
            data = recv_exactly(c, 20000)
        assert data == chargen_stream(len(data))


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


def test_udp_echo_daytime_time_chargen(server):
    years = current_year_strings()
    for i in range(CLIENTS):
        with udp_socket() as s:
            payload = b"datagram %d" % i
            assert request(s, udp_addr(server, "echo"), payload) == payload
            day = request(s, udp_addr(server, "daytime"), b"")
            assert day.endswith(b"\n") and any(y in day for y in years), day
            assert_rfc868_now(request(s, udp_addr(server, "time"), b""))
            reply = request(s, udp_addr(server, "chargen"), b"x" * CHARGEN_UDP_MAX)
            assert 0 < len(reply) <= CHARGEN_UDP_MAX, len(reply)
            assert_chargen_pattern(reply)


def test_udp_upper_and_discard(server):
    socks = [udp_socket() for _ in range(CLIENTS)]
    try:
        for i, s in enumerate(socks):
            s.sendto(b"up %d\n" % i, udp_addr(server, "upper"))
        replies = collect_replies(socks, CLIENTS, timeout=5.0)
        got = {i: replies[s][0] for i, s in enumerate(socks) if s in replies}
        assert got == {i: b"UP %d\n" % i for i in range(CLIENTS)}
        for i, s in enumerate(socks):
            s.sendto(b"into the void %d" % i, udp_addr(server, "discard"))
        answered = collect_replies(socks, CLIENTS, timeout=0.2)
        assert not answered, f"discard answered: {list(answered.values())!r}"
    finally:
        for s in socks:
            s.close()
