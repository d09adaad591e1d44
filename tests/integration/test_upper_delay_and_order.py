"""
Upper answers the lines of one connection in order, one at a time, each
after the --delay; lines still pending when the client stops sending are
answered before the server closes.
"""

import socket
import time

import pytest

from harness import MODELS, connect, recv_all, recv_until


@pytest.mark.parametrize("model", MODELS)
def test_lines_are_answered_in_order_one_delay_apart(servers, model):
    server = servers.start("tcp://127.0.0.1:0/upper", model=model, options=["--delay", "200ms"])
    with connect(server.addr("upper")) as c:
        start = time.monotonic()
        c.sendall(b"one\ntwo\r\nthree\n")
        arrivals = []
        for expected in (b"ONE\n", b"TWO\r\n", b"THREE\n"):
            assert recv_until(c, b"\n") == expected
            arrivals.append(time.monotonic() - start)
    first, second, third = arrivals
    assert first >= 0.18, f"first line answered after {first:.3f}s, before the 200ms delay"
    # The second line's delay starts only once the first is answered.
    assert second - first >= 0.18, f"answers at {arrivals}: not one delay apart"
    assert third - second >= 0.18, f"answers at {arrivals}: not one delay apart"
    assert third < 3.0, f"answers at {arrivals}"


@pytest.mark.parametrize("model", MODELS)
def test_pending_lines_are_answered_after_client_eof(servers, model):
    server = servers.start("tcp://127.0.0.1:0/upper", model=model, options=["--delay", "100ms"])
    with connect(server.addr("upper")) as c:
        c.sendall(b"first\nsecond\r\n")
        c.shutdown(socket.SHUT_WR)
        assert recv_all(c) == b"FIRST\nSECOND\r\n"


def test_delay_option_sets_the_wait(servers):
    server = servers.start("tcp://127.0.0.1:0/upper", options=["--delay", "250ms"])
    with connect(server.addr("upper")) as c:
        start = time.monotonic()
        c.sendall(b"wait\n")
        assert recv_until(c, b"\n") == b"WAIT\n"
        elapsed = time.monotonic() - start
    assert 0.23 <= elapsed < 2.5, f"--delay 250ms: answered after {elapsed:.3f}s"
