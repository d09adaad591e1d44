"""
UDP work never takes TCP's capacity, under every model. Datagrams have a
budget of their own (--max-datagrams, by default as many as --max-conns):
slow upper datagrams that fill it only pause the UDP listeners, and a TCP
echo client on the same server is served at once. Under iterative, which serves one client at
a time, a datagram keeps a waiting TCP client waiting for at most
--datagram-time (1 s) when TCP listeners share the server, and the
listeners take turns, so a TCP client waits for one datagram at most, never
for a queue of them or for lines x --delay. With no TCP client waiting, and
on a UDP-only iterative server, each datagram is served to its end.
"""

import time

import pytest

from harness import connect, echo_roundtrip
from udp_helpers import collect_replies, start_udp, udp_addr, udp_socket

SLOW = ["--delay", "30s"]
PROMPT = 3.0  # Seconds within which the TCP echo must come back.


def fill_udp_budget(server, count):
    """Sends count slow upper datagrams of 30 lines, each from a socket of
    its own; returns the sockets (the caller closes them)."""
    socks = [udp_socket() for _ in range(count)]
    for i, s in enumerate(socks):
        s.sendto(b"slow request %d\n" % i * 30, udp_addr(server, "upper"))
    return socks


def assert_tcp_echo_prompt(server, model):
    start = time.monotonic()
    with connect(server.addr("echo"), timeout=PROMPT + 2) as sock:
        assert echo_roundtrip(sock, b"still served\n", timeout=PROMPT + 2) == b"still served\n"
    took = time.monotonic() - start
    assert took < PROMPT, f"{model}: TCP echo took {took:.2f}s while UDP work was queued"


@pytest.mark.parametrize("model", ["epoll", "uring", "poll", "select", "thread", "fork"])
def test_full_datagram_budget_leaves_tcp_served(servers, model):
    server = start_udp(servers, "tcp://127.0.0.1:0/echo", "udp://127.0.0.1:0/upper",
                       model=model, options=SLOW + ["--max-conns", "4"])
    socks = fill_udp_budget(server, 12)
    try:
        time.sleep(0.3)  # Let the loop take the datagrams its budget allows.
        assert_tcp_echo_prompt(server, model)
        # A second and third client too: TCP has its whole budget.
        for _ in range(3):
            assert_tcp_echo_prompt(server, model)
    finally:
        for s in socks:
            s.close()


@pytest.mark.parametrize("model", ["epoll", "poll", "uring", "thread", "fork"])
def test_max_datagrams_bounds_udp_alone(servers, model):
    # --max-datagrams 2 with a generous --max-conns: two datagrams are
    # served at once, the other two wait their turn rather than being lost.
    server = start_udp(servers, "tcp://127.0.0.1:0/echo", "udp://127.0.0.1:0/upper",
                       model=model, options=["--delay", "300ms", "--max-datagrams", "2"])
    socks = [udp_socket() for _ in range(4)]
    try:
        start = time.monotonic()
        for i, s in enumerate(socks):
            s.sendto(b"bounded %d\n" % i, udp_addr(server, "upper"))
        replies = collect_replies(socks, len(socks), timeout=5.0)
        times = sorted(t - start for _, t in replies.values())
    finally:
        for s in socks:
            s.close()
    assert len(times) == 4, f"{model}: {len(times)} of 4 datagrams answered"
    assert times[1] < 0.55 and times[2] >= 0.55, (
        f"{model}: with --max-datagrams 2, four 300ms requests were answered at "
        f"{[round(t, 2) for t in times]}s")


def test_iterative_serves_tcp_within_one_datagram_bound(servers):
    server = start_udp(servers, "tcp://127.0.0.1:0/echo", "udp://127.0.0.1:0/upper",
                       model="iterative", options=SLOW)
    socks = fill_udp_budget(server, 5)
    try:
        time.sleep(0.2)
        assert_tcp_echo_prompt(server, "iterative")
    finally:
        for s in socks:
            s.close()


def test_iterative_datagram_time_is_settable(servers):
    server = start_udp(servers, "tcp://127.0.0.1:0/echo", "udp://127.0.0.1:0/upper",
                       model="iterative", options=["--delay", "30s", "--datagram-time", "200ms"])
    socks = fill_udp_budget(server, 3)
    try:
        time.sleep(0.1)
        start = time.monotonic()
        assert_tcp_echo_prompt(server, "iterative")
        assert time.monotonic() - start < 1.0
    finally:
        for s in socks:
            s.close()


def test_udp_only_iterative_serves_a_slow_datagram_to_its_end(servers):
    server = start_udp(servers, "udp://127.0.0.1:0/upper", model="iterative",
                       options=["--delay", "1500ms"])
    with udp_socket() as s:
        s.sendto(b"slow but answered\n", udp_addr(server, "upper"))
        replies = collect_replies([s], 1, timeout=4.0)
    assert [r for r, _ in replies.values()] == [b"SLOW BUT ANSWERED\n"]


def test_iterative_serves_a_slow_datagram_to_its_end_while_no_tcp_client_waits(servers):
    server = start_udp(servers, "tcp://127.0.0.1:0/echo", "udp://127.0.0.1:0/upper",
                       model="iterative", options=["--delay", "1500ms"])
    with udp_socket() as s:
        s.sendto(b"nobody is waiting\n", udp_addr(server, "upper"))
        replies = collect_replies([s], 1, timeout=4.0)
    assert [r for r, _ in replies.values()] == [b"NOBODY IS WAITING\n"]


def test_iterative_still_answers_a_datagram_within_the_bound(servers):
    server = start_udp(servers, "udp://127.0.0.1:0/upper", model="iterative",
                       options=["--delay", "300ms"])
    with udp_socket() as s:
        s.sendto(b"a\nb\nc\n", udp_addr(server, "upper"))
        replies = collect_replies([s], 1, timeout=3.0)
    assert [r for r, _ in replies.values()] == [b"A\nB\nC\n"]
