"""
--threads 2 really runs two event loops that share the clients: the
process has (at least) two threads, and while forty echo clients keep the
server busy, more than one of those threads spends CPU time serving them.
A --threads that started one loop, or hashed every client to one loop,
would show one busy thread and one idle one. That holds for clients that
connect as soon as the server announces its listeners, too.

The first loop runs on the main thread, so two loops are two threads. Under
uring the kernel may add io-wq helper threads (named iou-*); they are not
loops and are left out.
"""

import os
import selectors
import time

import pytest

from harness import connect, open_nonblocking_connections, recv_exactly, wait_until

LOOP_MODELS = ["select", "poll", "epoll", "uring"]
CONNECTIONS = 40
PUMP_SECONDS = 1.0
MESSAGE = 16 * 1024


def loop_threads(pid):
    """{tid: CPU ticks so far} of the process's threads, io_uring's own
    kernel helpers left out."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except FileNotFoundError:
            continue
        if name.startswith("iou-"):
            continue
        fields = text[text.rindex(")") + 2:].split()
        found[int(tid)] = int(fields[11]) + int(fields[12])
    return found


def pump_echo(socks, seconds):
    """Keeps one message in flight on every connection for seconds and
    checks each reply; returns the number of round trips."""
    sel = selectors.DefaultSelector()
    want = {}
    for i, s in enumerate(socks):
        s.setblocking(True)
        payload = bytes([i % 256]) * MESSAGE
        s.sendall(payload)
        want[s] = payload
        sel.register(s, selectors.EVENT_READ)
    trips = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            events = sel.select(timeout=5.0)
            assert events, "no echo came back within 5s"
            for key, _ in events:
                s = key.fileobj
                got = recv_exactly(s, MESSAGE)
                assert got == want[s], "an echo came back altered"
                trips += 1
                s.sendall(got)
        for s in socks:  # The last message of each is still owed.
            assert recv_exactly(s, MESSAGE) == want[s]
    finally:
        sel.close()
    return trips


def assert_both_loops_work(server, socks):
    before = loop_threads(server.pid)
    assert len(before) >= 2, f"--threads 2 runs {len(before)} thread(s): {sorted(before)}"
    trips = pump_echo(socks, PUMP_SECONDS)
    after = loop_threads(server.pid)
    worked = {tid: after[tid] - ticks for tid, ticks in before.items()
              if tid in after and after[tid] > ticks}
    assert len(worked) >= 2, (
        f"only {len(worked)} thread(s) did any work in {trips} echo round trips over "
        f"{len(socks)} connections: ticks per thread {worked}, threads {sorted(before)}")


@pytest.mark.parametrize("model", LOOP_MODELS)
def test_two_loops_both_serve_clients(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["--threads", "2", "-q"])
    # Both loops up and listening (see the test below for why to wait).
    assert wait_until(lambda: len(loop_threads(server.pid)) >= 2, timeout=5.0), (
        f"--threads 2 runs threads {sorted(loop_threads(server.pid))}")
    socks = [connect(server.addr("echo")) for _ in range(CONNECTIONS)]
    try:
        assert_both_loops_work(server, socks)
    finally:
        for s in socks:
            s.close()


def test_clients_that_connect_on_the_announcement_reach_both_loops(servers):
    # `listening` says the server is ready. A client that connects as soon
    # as it reads that line (a benchmark, a supervisor's health check) must
    # be spread like any other, not all land on the first loop because the
    # other loops have not bound their sockets yet.
    server = servers.start("tcp://127.0.0.1:0/echo", model="epoll",
                           options=["--threads", "2", "-q"])
    socks = open_nonblocking_connections(server.addr("echo"), CONNECTIONS, timeout=5.0)
    try:
        for s in socks:
            s.setblocking(True)
            s.settimeout(5.0)
            assert s.getpeername(), "a connect did not complete"
        assert wait_until(lambda: len(loop_threads(server.pid)) >= 2, timeout=5.0)
        assert_both_loops_work(server, socks)
    finally:
        for s in socks:
            s.close()
