"""
UDP datagrams the server drops (here: a source over --udp-rate) are
counted in the log while the server runs, not only at exit: the first drop
is logged at once, and those that follow within the same second are
flushed by a timer a second later with the running total, even when no
datagram comes after them to trigger a log line.
"""

import re
import time

import pytest

from udp_helpers import start_udp, udp_addr, udp_socket

DROPS = 30


@pytest.mark.parametrize("model", ["epoll", "uring", "thread", "iterative"])
def test_drops_that_stopped_coming_are_flushed_with_the_total(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/discard", model=model,
                       options=["--udp-rate", "1/1"])
    with udp_socket() as s:
        # One token: the first datagram is served, the next DROPS dropped.
        for i in range(DROPS + 1):
            s.sendto(b"%d" % i, udp_addr(server, "discard"))
        began = time.monotonic()
        first = server.wait_for_stderr(r"udp: dropped (\d+) datagrams? \(source over its rate")
        m = server.wait_for_stderr(
            r"udp: dropped (\d+) datagrams? \(source over its rate.*; %d in all$" % DROPS,
            timeout=3.0)
        took = time.monotonic() - began
    assert server.alive(), server.describe()
    assert took < 2.5, f"the rest were logged {took:.1f}s later"
    lines = re.findall(r"udp: dropped (\d+) datagrams? \(source over", server.stderr_text())
    assert sum(int(n) for n in lines) == DROPS, server.stderr_text()
    assert len(lines) <= 3, f"{DROPS} drops in {len(lines)} lines:\n{server.stderr_text()}"
    assert int(first.group(1)) + int(m.group(1)) <= DROPS
