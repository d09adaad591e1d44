"""
--overflow says what becomes of clients beyond --max-conns. With refuse,
under every model, the extra client is reset at once (never served a byte)
while the ones within the limit go on being served, each refusal is
counted, the log says so at most once a second with the running count (and
has no arrival line for it), and a slot that frees is used again. With wait (the default) the extra client
waits in the backlog until a slot frees, as before.
"""

import re
import time

import pytest

from harness import (MODELS, connect, echo_roundtrip, recv_exactly, recv_for, run_sockserv,
                     wait_until)

REFUSED_RE = re.compile(r"refused \d+ clients? from \S+(?: and others)?: "
                        r"--max-conns reached \(--overflow refuse\) \(total (\d+)\)")


def refused_counts(server):
    return [int(n) for n in REFUSED_RE.findall(server.stderr_text())]


def assert_refused_at_once(addr):
    """A client beyond the limit is closed within a moment, unserved."""
    start = time.monotonic()
    try:
        extra = connect(addr)
    except ConnectionResetError:
        # Reset before connect() even looked: refused within the handshake.
        return
    try:
        try:
            extra.sendall(b"extra")
        except OSError:
            pass  # Already reset: just as good.
        data, eof = recv_for(extra, 2.0)
        took = time.monotonic() - start
        assert eof and data == b"", f"an extra client got {data!r} (closed: {eof})"
        assert took < 1.0, f"an extra client was closed only after {took:.2f}s"
    finally:
        extra.close()


@pytest.mark.parametrize("model", MODELS)
def test_extra_client_is_reset_and_a_freed_slot_is_used(servers, model):
    # iterative serves one client at a time whatever --max-conns says.
    within = 1 if model == "iterative" else 2
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["--max-conns", "2", "--overflow", "refuse"])
    addr = server.addr("echo")
    served = [connect(addr) for _ in range(within)]
    try:
        for i, s in enumerate(served):
            assert echo_roundtrip(s, b"in%d" % i) == b"in%d" % i
        assert_refused_at_once(addr)
        # Those within the limit never noticed.
        for i, s in enumerate(served):
            assert echo_roundtrip(s, b"still%d" % i) == b"still%d" % i
        served.pop(0).close()
        deadline = time.monotonic() + 3.0
        while True:
            # The close reaches the server a moment later: until then a new
            # client may still be refused.
            again = None
            try:
                again = connect(addr)
                again.sendall(b"again")
                data, _ = recv_for(again, 0.3)
            except ConnectionResetError:
                data = b""
            if data:
                break
            if again is not None:
                again.close()
            assert time.monotonic() < deadline, "a freed slot was never used again"
        served.append(again)
        assert data + recv_exactly(again, 5 - len(data)) == b"again"
        counts = refused_counts(server)
        assert counts and counts[0] == 1, f"no refusal logged:\n{server.describe()}"
    finally:
        for s in served:
            s.close()


@pytest.mark.parametrize("model", ["epoll", "uring"])
def test_loops_sharing_a_socket_refuse_only_when_all_are_full(servers, model):
    # Each of the two loops serves a share of one; a client the first loop
    # cannot take must be left to the second, not refused.
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["--threads", "2", "--balance", "shared", "--max-conns", "2",
                                    "--overflow", "refuse"])
    addr = server.addr("echo")
    for round_ in range(4):
        served = [connect(addr) for _ in range(2)]
        try:
            for i, s in enumerate(served):
                assert echo_roundtrip(s, b"r%d" % i) == b"r%d" % i, f"round {round_}"
            assert_refused_at_once(addr)
        finally:
            for s in served:
                s.close()
        # Both loops see their client leave before the next round.
        time.sleep(0.3)


def test_refusals_are_logged_at_most_once_a_second_with_the_count(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="epoll",
                           options=["--max-conns", "1", "--overflow", "refuse"])
    addr = server.addr("echo")
    held = connect(addr)
    try:
        assert echo_roundtrip(held, b"x") == b"x"
        for _ in range(20):
            assert_refused_at_once(addr)
        wait_until(lambda: refused_counts(server), timeout=2.0)
        assert refused_counts(server) == [1], server.stderr_text()
        # Nor is a refused client announced as an arrival, one line each.
        assert server.stderr_text().count("client connected") == 1, server.stderr_text()
        time.sleep(1.0)
        assert_refused_at_once(addr)
        wanted = [1, 21]
        got = None
        deadline = time.monotonic() + 2.0
        while got != wanted and time.monotonic() < deadline:
            time.sleep(0.05)
            got = refused_counts(server)
        assert got == wanted, server.stderr_text()
        assert echo_roundtrip(held, b"y") == b"y"
    finally:
        held.close()


@pytest.mark.parametrize("model", ["thread", "epoll", "uring"])
def test_wait_keeps_the_extra_client_in_the_backlog(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["--max-conns", "1", "--overflow", "wait"])
    addr = server.addr("echo")
    first = connect(addr)
    second = None
    try:
        assert echo_roundtrip(first, b"1") == b"1"
        second = connect(addr)
        second.sendall(b"2")
        data, eof = recv_for(second, 0.5)
        assert data == b"" and not eof, f"the waiting client got {data!r} (closed: {eof})"
        first.close()
        assert recv_exactly(second, 1, timeout=3.0) == b"2"
        assert refused_counts(server) == []
    finally:
        first.close()
        if second is not None:
            second.close()


@pytest.mark.parametrize("value", ["", "maybe", "Refuse", "refuse "])
def test_bad_overflow_exits_2_with_one_line(value):
    rc, out, err = run_sockserv(["serve", "--overflow", value, "tcp://127.0.0.1:0/echo"])
    lines = err.strip().splitlines()
    assert rc == 2, f"exit {rc} for --overflow {value!r}; stderr {err!r}"
    assert len(lines) == 1, f"stderr {err!r}"
    assert f"bad --overflow '{value}': expected wait or refuse" in lines[0], lines[0]
    assert out == ""
