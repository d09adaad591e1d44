"""
Under --threads 2, one client's upper delay never holds up another, in
whichever loop either lives: twenty clients that each send a line at once
with --delay 1s are all answered after about one second, not twenty.
"""

import os
import time

import pytest

from harness import connect, recv_until, wait_until

LOOP_MODELS = ["select", "poll", "epoll", "uring"]
CLIENTS = 20


def wait_for_loops(server, count=2, timeout=5.0):
    """Waits until the process runs count threads. The server announces its
    listeners before the other loops have bound their sockets, and a client
    that connects before then always lands on the first loop."""
    ok = wait_until(lambda: len(os.listdir(f"/proc/{server.pid}/task")) >= count, timeout)
    assert ok, f"--threads {count}: only {os.listdir(f'/proc/{server.pid}/task')} threads"


@pytest.mark.parametrize("model", LOOP_MODELS)
def test_twenty_delayed_clients_are_answered_together(servers, model):
    server = servers.start("tcp://127.0.0.1:0/upper", model=model,
                           options=["--threads", "2", "--delay", "1s", "-q"])
    wait_for_loops(server)
    clients = []
    try:
        for _ in range(CLIENTS):
            clients.append(connect(server.addr("upper")))
        start = time.monotonic()
        for i, c in enumerate(clients):
            c.sendall(b"client %d\n" % i)
        for i, c in enumerate(clients):
            remaining = max(0.1, start + 8.0 - time.monotonic())
            assert recv_until(c, b"\n", timeout=remaining) == b"CLIENT %d\n" % i
        elapsed = time.monotonic() - start
    finally:
        for c in clients:
            c.close()
    assert elapsed >= 0.9, f"answered after {elapsed:.2f}s, before the 1s delay"
    assert elapsed < 5.0, f"{CLIENTS} clients took {elapsed:.2f}s; they were not served at once"
