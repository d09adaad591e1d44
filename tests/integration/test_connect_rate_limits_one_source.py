"""
--connect-rate R[/BURST]: new connections a second per source, a token
bucket per source shared by the whole server. A source over it is closed
at once without a byte; another source keeps its whole burst.
"""

import time

import pytest

from access_helpers import try_echo_from

RATE, BURST = 1, 3


def burst_from(addr, source, count):
    served = 0
    for _ in range(count):
        sock, ok = try_echo_from(addr, source)
        sock.close()
        served += ok
    return served


@pytest.mark.parametrize("options", [
    ["-m", "epoll"], ["-m", "thread"], ["-m", "uring"], ["-m", "fork"],
    ["-m", "epoll", "--threads", "2"], ["--workers", "2"],
], ids=["epoll", "thread", "uring", "fork", "threads-2", "workers-2"])
def test_a_fast_source_is_cut_to_the_rate_and_another_is_not(servers, options):
    server = servers.start("tcp://127.0.0.1:0/echo",
                           options=[*options, "--connect-rate", f"{RATE}/{BURST}"])
    addr = server.addr("echo")
    start = time.monotonic()
    served = burst_from(addr, "127.0.0.1", 3 * BURST)
    elapsed = time.monotonic() - start
    assert served >= BURST, f"{options}: only {served} of the burst of {BURST} were served"
    bound = BURST + RATE * elapsed + 1
    assert served <= bound, f"{options}: {served} served in {elapsed:.2f}s; the bucket allows {bound:.1f}"
    assert burst_from(addr, "127.0.0.2", BURST) == BURST, f"{options}: another source was limited"
    server.wait_for_stderr(r"from 127\.0\.0\.1: --connect-rate exceeded")
