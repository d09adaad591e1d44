"""
Workers are how one server goes past a single process's descriptor limit.
With RLIMIT_NOFILE at 200, one process cannot hold 250 connections; with
--workers 2 the server holds 250 open at once and echoes on every one,
each worker below its own limit.

Each worker serves up to 168 at once (its limit less a reserve). The kernel
hashes each client to one worker's socket, so the split is about even but
not exact: 250 leaves room for any split the hash practically makes (168
is 5 standard deviations above the 125 expected). A client hashed to a
worker that is full waits for that worker; --balance shared would let the
other take it.
"""

import os
import resource
import selectors
import time

import pytest

import harness

from harness import children_of, open_nonblocking_connections, recv_exactly, wait_until

LIMIT = 200
CONNECTIONS = 250


def limit_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


def sockets_held(pid):
    count = 0
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return 0
    for name in names:
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                count += 1
        except FileNotFoundError:
            pass
    return count


@pytest.fixture
def room_for_clients():
    """The test holds CONNECTIONS sockets itself."""
    with harness.descriptor_room(CONNECTIONS + 200):
        yield


@pytest.mark.parametrize("model", ["epoll", "uring"])
def test_two_workers_hold_more_connections_than_one_process_may(servers, room_for_clients, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["--workers", "2", "-q"], preexec_fn=limit_descriptors)
    workers = wait_until(lambda: set(children_of(server.pid)) if len(
        children_of(server.pid)) == 2 else None, timeout=5.0)
    assert workers, f"expected 2 workers: {children_of(server.pid)}\n{server.describe()}"
    socks = []
    try:
        # All at once, as a busy server meets them.
        socks = open_nonblocking_connections(server.addr("echo"), CONNECTIONS, timeout=5.0)
        for s in socks:
            s.setblocking(True)
            s.settimeout(5.0)
            assert s.getpeername(), "a connect did not complete"
        payloads = {s: b"connection %d of %d\n" % (i, CONNECTIONS) for i, s in enumerate(socks)}
        for s in socks:
            s.sendall(payloads[s])
        # Read whichever answers first; a connection no worker took
        # never answers.
        sel = selectors.DefaultSelector()
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        answered = dropped = 0
        deadline = time.monotonic() + 10
        while answered + dropped < CONNECTIONS and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                s = key.fileobj
                sel.unregister(s)
                try:
                    got = recv_exactly(s, len(payloads[s]))
                except (AssertionError, ConnectionResetError):
                    dropped += 1  # Closed by the server unanswered.
                    continue
                assert got == payloads[s], f"echo {got!r} for {payloads[s]!r}"
                answered += 1
        sel.close()
        held = {pid: sockets_held(pid) for pid in workers}
    finally:
        for s in socks:
            s.close()
    assert answered == CONNECTIONS, (
        f"{answered} of {CONNECTIONS} connections echoed ({dropped} closed unanswered) with "
        f"RLIMIT_NOFILE {LIMIT} per process\n{server.describe()}")
    assert sum(held.values()) >= CONNECTIONS, f"sockets per worker: {held}"
    assert all(n < LIMIT for n in held.values()), f"sockets per worker: {held}"
    assert server.alive(), server.describe()
