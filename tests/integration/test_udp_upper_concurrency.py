"""
Slow UDP requests under each model: twenty upper datagrams with a 1 s
delay, each from its own socket, are all answered in about one delay under
every concurrent model (a process or thread per datagram, or timers in one
loop), while the iterative model answers one datagram at a time.
"""

import time

import pytest

from harness import CONCURRENT_MODELS
from udp_helpers import collect_replies, start_udp, udp_addr, udp_socket

CLIENTS = 20


@pytest.mark.parametrize("model", CONCURRENT_MODELS)
def test_twenty_slow_datagrams_are_answered_together(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/upper", model=model,
                       options=["--delay", "1s"])
    addr = udp_addr(server, "upper")
    socks = [udp_socket() for _ in range(CLIENTS)]
    try:
        start = time.monotonic()
        for i, s in enumerate(socks):
            s.sendto(b"request %d from client\n" % i, addr)
        replies = collect_replies(socks, CLIENTS, timeout=8.0)
        elapsed = time.monotonic() - start
        for i, s in enumerate(socks):
            assert s in replies, f"{model}: client {i} got no answer; {len(replies)} did"
            assert replies[s][0] == b"REQUEST %d FROM CLIENT\n" % i, replies[s][0]
        last = max(t for _, t in replies.values()) - start
    finally:
        for s in socks:
            s.close()
    assert last >= 0.9, f"{model}: answered after {last:.2f}s, before the 1s delay"
    assert last < 5.0, (
        f"{model}: {CLIENTS} requests with a 1s delay took {last:.2f}s "
        f"(all done after {elapsed:.2f}s): they were not served concurrently")


def test_iterative_answers_one_datagram_at_a_time(servers):
    server = start_udp(servers, "udp://127.0.0.1:0/upper", model="iterative",
                       options=["--delay", "300ms"])
    addr = udp_addr(server, "upper")
    socks = [udp_socket() for _ in range(3)]
    try:
        start = time.monotonic()
        for i, s in enumerate(socks):
            s.sendto(b"one at a time %d\n" % i, addr)
        replies = collect_replies(socks, len(socks), timeout=5.0)
        for i, s in enumerate(socks):
            assert s in replies, f"client {i} got no answer"
            assert replies[s][0] == b"ONE AT A TIME %d\n" % i
        times = sorted(t - start for _, t in replies.values())
    finally:
        for s in socks:
            s.close()
    assert times[-1] >= 0.8, (
        f"three 300ms requests all answered by {times[-1]:.2f}s: not serialized")
    # One answer per delay: each comes a delay after the one before.
    assert times[1] - times[0] >= 0.25 and times[2] - times[1] >= 0.25, times


@pytest.mark.parametrize("model", CONCURRENT_MODELS)
def test_max_conns_bounds_datagrams_served_at_once(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/upper", model=model,
                       options=["--delay", "300ms", "--max-conns", "2"])
    addr = udp_addr(server, "upper")
    socks = [udp_socket() for _ in range(4)]
    try:
        start = time.monotonic()
        for i, s in enumerate(socks):
            s.sendto(b"bounded %d\n" % i, addr)
        replies = collect_replies(socks, len(socks), timeout=5.0)
        for i, s in enumerate(socks):
            assert s in replies, f"{model}: client {i} got no answer"
            assert replies[s][0] == b"BOUNDED %d\n" % i
        times = sorted(t - start for _, t in replies.values())
    finally:
        for s in socks:
            s.close()
    # Two at a time: two answers after one delay, the other two after two.
    assert times[1] < 0.55 and times[2] >= 0.55, (
        f"{model}: with --max-conns 2, four 300ms requests were answered at "
        f"{[round(t, 2) for t in times]}s")
