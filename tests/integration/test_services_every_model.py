"""
Every service answers as its RFC says, under every model, over IPv4 and
IPv6 loopback. One server per model carries all six services on both
addresses (twelve listeners in one process).
"""

import socket
import struct
import time

import pytest

from harness import (CHARGEN_LINE, LOOPBACK, MODELS, RFC868_EPOCH_OFFSET, SERVICES, ServerPool,
                     chargen_stream, connect, echo_roundtrip, ipv6_loopback_error, recv_all,
                     recv_exactly, recv_until)

FAMILIES = [
    pytest.param(socket.AF_INET, id="ipv4"),
    pytest.param(socket.AF_INET6, id="ipv6"),
]

UPPER_DELAY = "100ms"


@pytest.fixture(scope="module", params=MODELS)
def server(request):
    hosts = ["127.0.0.1"]
    if ipv6_loopback_error() is None:
        hosts.append("[::1]")
    listeners = [f"tcp://{host}:0/{service}" for host in hosts for service in SERVICES]
    with ServerPool() as pool:
        yield pool.start(*listeners, model=request.param, options=["--delay", UPPER_DELAY])


@pytest.fixture(params=FAMILIES)
def family(request, ipv6_error):
    if request.param == socket.AF_INET6 and ipv6_error is not None:
        pytest.skip(f"IPv6 loopback ::1 cannot be bound on this machine: {ipv6_error}")
    return request.param


def test_every_listener_is_announced(server):
    families = [socket.AF_INET] + ([socket.AF_INET6] if ipv6_loopback_error() is None else [])
    announced = sorted((l.host, l.service) for l in server.listeners)
    expected = sorted((LOOPBACK[f], s) for f in families for s in SERVICES)
    assert announced == expected
    assert all(l.port != 0 for l in server.listeners), server.listeners


def test_echo_returns_what_was_sent(server, family):
    with connect(server.addr("echo", family)) as c:
        assert echo_roundtrip(c, b"hello\r\n") == b"hello\r\n"
        payload = bytes(range(256)) * 64  # Every byte value, 16 KiB.
        assert echo_roundtrip(c, payload) == payload


def test_echo_closes_after_client_closes_its_side(server, family):
    with connect(server.addr("echo", family)) as c:
        c.sendall(b"bye")
        c.shutdown(socket.SHUT_WR)
        assert recv_all(c) == b"bye"


def test_discard_answers_nothing_and_closes_after_client_eof(server, family):
    with connect(server.addr("discard", family)) as c:
        c.sendall(b"x" * 65536)
        c.sendall(b"no reply expected\r\n")
        c.shutdown(socket.SHUT_WR)
        assert recv_all(c) == b""


def test_daytime_sends_one_crlf_line_then_closes(server, family):
    years = {str(time.localtime().tm_year), str(time.gmtime().tm_year)}
    with connect(server.addr("daytime", family)) as c:
        data = recv_all(c)
    assert data.endswith(b"\r\n"), data
    body = data[:-2]
    assert body and b"\n" not in body and b"\r" not in body, data
    assert all(0x20 <= b < 0x7F for b in body), f"not printable ASCII: {data!r}"
    assert any(y.encode() in body for y in years), f"no current year in {data!r}"


def test_time_sends_four_bytes_of_seconds_since_1900_then_closes(server, family):
    with connect(server.addr("time", family)) as c:
        data = recv_all(c)
    now = time.time() + RFC868_EPOCH_OFFSET
    assert len(data) == 4, data
    (seconds,) = struct.unpack("!I", data)
    assert abs(seconds - now) < 5, f"server says {seconds}, clock says {now:.0f}"


def test_chargen_sends_rotating_72_character_lines(server, family):
    period = 95 * (CHARGEN_LINE + 2)
    with connect(server.addr("chargen", family)) as c:
        data = recv_exactly(c, 2 * period + 100)
    expected = chargen_stream(len(data))
    assert data[:CHARGEN_LINE + 2] == expected[:CHARGEN_LINE + 2]
    assert data == expected


def test_upper_uppercases_each_line_keeping_its_ending(server, family):
    with connect(server.addr("upper", family)) as c:
        c.sendall(b"Hello, World 42\r\n")
        assert recv_until(c, b"\n") == b"HELLO, WORLD 42\r\n"
        c.sendall(b"mixed Case\n")
        assert recv_until(c, b"\n") == b"MIXED CASE\n"


def test_upper_changes_only_ascii_letters(server, family):
    line = "caf\u00e9 \u00fcber z{|}~`@[".encode("utf-8")
    with connect(server.addr("upper", family)) as c:
        c.sendall(line + b"\n")
        reply = recv_until(c, b"\n")
    assert reply == "CAF\u00e9 \u00fcBER Z{|}~`@[\n".encode("utf-8")
