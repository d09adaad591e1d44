"""
1,000 idle connections cannot starve a new client under epoll with the
defaults: with a thousand clients connected, served once and then silent
(inside the default --idle-timeout, so none is cut), a new client is
accepted and answered at once, time after time, and the idle ones are
still served when they speak again.
"""

import statistics
import time

import pytest

import harness

from harness import connect, echo_roundtrip, open_nonblocking_connections, recv_exactly

IDLE = 1000
NEW_CLIENTS = 5
# A new client on an idle loop is answered in well under a millisecond;
# the bound only catches one that waits behind the idle ones.
MEDIAN_BOUND_S = 0.25


@pytest.fixture
def room_for_clients():
    """The test holds IDLE sockets itself, and the server as many."""
    with harness.descriptor_room(IDLE + 200):
        yield


def first_byte_time(addr):
    """Connect to answered: seconds until a new client's echo comes back."""
    start = time.monotonic()
    s = connect(addr)
    try:
        assert echo_roundtrip(s, b"new", timeout=5.0) == b"new"
        return time.monotonic() - start
    finally:
        s.close()


def test_a_new_client_is_served_at_once_beside_1000_idle_ones(servers, room_for_clients):
    server = servers.start("tcp://127.0.0.1:0/echo", model="epoll", options=["-q"])
    addr = server.addr("echo")
    idle = open_nonblocking_connections(addr, IDLE, timeout=10.0)
    try:
        # Each served once, so every one is surely accepted and held.
        for s in idle:
            s.setblocking(True)
            s.settimeout(5.0)
            s.sendall(b"i")
        for s in idle:
            assert recv_exactly(s, 1) == b"i"
        times = [first_byte_time(addr) for _ in range(NEW_CLIENTS)]
        assert statistics.median(times) < MEDIAN_BOUND_S, (
            f"a new client beside {IDLE} idle ones waited {sorted(times)} s\n{server.describe()}")
        # None of the idle ones was cut to make room.
        for s in idle[::50]:
            assert echo_roundtrip(s, b"back") == b"back"
    finally:
        for s in idle:
            s.close()
