"""
Every service over UDP under every model, over IPv4 and IPv6: one server
per model serves all six services on 127.0.0.1 and ::1.

echo answers a datagram with the same bytes (8 KiB too), upper with the
line uppercased after --delay, daytime with one line, time with 4 bytes of
seconds since 1900, chargen with the RFC 864 pattern no longer than the
request, and discard with nothing at all.
"""

import socket
import struct
import time

import pytest

from harness import MODELS, RFC868_EPOCH_OFFSET, SERVICES, ServerPool, ipv6_loopback_error
from udp_helpers import (CHARGEN_UDP_MAX, assert_chargen_pattern, datagrams_within, request,
                         start_udp, udp_addr, udp_socket)

DELAY = 0.2
FAMILIES = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}
IPV6_ERROR = ipv6_loopback_error()


@pytest.fixture(scope="module")
def udp_servers():
    """{model: server}, each serving every service on both loopbacks."""
    hosts = ["127.0.0.1"] if IPV6_ERROR else ["127.0.0.1", "[::1]"]
    listeners = [f"udp://{host}:0/{service}" for host in hosts for service in SERVICES]
    with ServerPool() as pool:
        yield {m: start_udp(pool, *listeners, model=m, options=["--delay", f"{DELAY}s"])
               for m in MODELS}


@pytest.fixture(params=FAMILIES)
def family(request):
    if request.param == "ipv6" and IPV6_ERROR:
        pytest.skip(f"IPv6 loopback ::1 cannot be bound on this machine: {IPV6_ERROR}")
    return FAMILIES[request.param]


@pytest.mark.parametrize("model", MODELS)
def test_echo_sends_the_datagram_back(udp_servers, model, family):
    server = udp_servers[model]
    with udp_socket(family) as s:
        for payload in (b"hello, datagram", bytes(range(256)), b"\x00\xff" * 4096):
            assert request(s, udp_addr(server, "echo", family), payload) == payload


@pytest.mark.parametrize("model", MODELS)
def test_echo_answers_an_empty_datagram_with_an_empty_one(udp_servers, model):
    # RFC 862: "the data from it is sent back in an answering datagram";
    # for an empty datagram that is an empty answer, as chargen gives one.
    server = udp_servers[model]
    with udp_socket() as s:
        s.sendto(b"", udp_addr(server, "echo"))
        got = datagrams_within(s, 0.3)
    assert got == [b""], f"{model}: an empty echo datagram was answered with {got!r}"


@pytest.mark.parametrize("model", MODELS)
def test_upper_answers_uppercased_after_the_delay(udp_servers, model, family):
    server = udp_servers[model]
    with udp_socket(family) as s:
        start = time.monotonic()
        reply = request(s, udp_addr(server, "upper", family), b"Hello, udp World 42\n")
        elapsed = time.monotonic() - start
    assert reply == b"HELLO, UDP WORLD 42\n"
    assert elapsed >= DELAY * 0.9, (
        f"{model}: answered after {elapsed:.3f}s, before --delay {DELAY}s")


@pytest.mark.parametrize("model", MODELS)
def test_daytime_answers_one_line(udp_servers, model, family):
    server = udp_servers[model]
    with udp_socket(family) as s:
        reply = request(s, udp_addr(server, "daytime", family), b"")
    assert reply.endswith(b"\n") and reply.count(b"\n") == 1, reply
    text = reply.rstrip(b"\r\n")
    assert len(text) >= 8 and all(0x20 <= b < 0x7f for b in text), reply


@pytest.mark.parametrize("model", MODELS)
def test_time_answers_four_bytes_of_seconds_since_1900(udp_servers, model, family):
    server = udp_servers[model]
    with udp_socket(family) as s:
        before = int(time.time())
        reply = request(s, udp_addr(server, "time", family), b"")
        after = int(time.time())
    assert len(reply) == 4, reply
    (seconds,) = struct.unpack("!I", reply)
    assert before + RFC868_EPOCH_OFFSET - 2 <= seconds <= after + RFC868_EPOCH_OFFSET + 2, (
        f"{model}: time said {seconds}, now is about {before + RFC868_EPOCH_OFFSET}")


@pytest.mark.parametrize("model", MODELS)
def test_discard_never_answers(udp_servers, model):
    server = udp_servers[model]
    families = [socket.AF_INET] if IPV6_ERROR else [socket.AF_INET, socket.AF_INET6]
    socks = [udp_socket(f) for f in families]
    try:
        # Both families at once, so one quiet window covers them.
        for s, f in zip(socks, families):
            for payload in (b"", b"throw this away", b"x" * 1000):
                s.sendto(payload, udp_addr(server, "discard", f))
        time.sleep(0.3)
        got = {f: datagrams_within(s, 0.01) for s, f in zip(socks, families)}
    finally:
        for s in socks:
            s.close()
    assert all(not g for g in got.values()), f"{model}: discard answered {got!r}"


@pytest.mark.parametrize("model", MODELS)
def test_chargen_answers_the_pattern_no_longer_than_the_request(udp_servers, model, family):
    server = udp_servers[model]
    with udp_socket(family) as s:
        for size in (1, 10, 100, 600):
            reply = request(s, udp_addr(server, "chargen", family), b"q" * size)
            assert 0 < len(reply) <= min(size, CHARGEN_UDP_MAX), (
                f"{model}: a {size}-byte request got a {len(reply)}-byte reply")
            assert_chargen_pattern(reply)
