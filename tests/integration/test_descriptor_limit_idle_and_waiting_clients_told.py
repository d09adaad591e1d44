"""
A server held at its descriptor limit, with clients connected and more
arriving, stays idle, turns each client it cannot serve away at once (the
client sees its connection closed), and serves new clients again once
descriptors free up.

Two ways this used to break: io_uring's accept takes a descriptor before it
looks for a client, so a re-armed accept failed at once, forever (a core
spinning); and with several loops (--threads 2) one loop's accept could take
the number of the one spare descriptor kept for turning clients away, after
which nobody was told and epoll and poll spun on the waiting clients.

--max-conns is set far above the descriptor limit so the limit, not
--max-conns, is what the server runs into.
"""

import resource
import selectors
import socket
import time

import pytest

from harness import CLOCK_TICKS, connect, cpu_ticks, echo_roundtrip

FD_LIMIT = 64
HELD = 80  # More than the server can hold at FD_LIMIT.
CHURN_ROUNDS = 60  # A few seconds of clients leaving and arriving at the limit.
CHURN_BATCH = 20
LATE = 20  # Clients arriving once the server is full: each must be told.
WINDOW = 2.0
# An idle server uses a tick or two in WINDOW; a spinning one most of a
# core. The bound is loose because the machine running the tests is busy.
MAX_CPU_SHARE = 0.1
TOLD_WITHIN = 3.0

CASES = [
    ("uring", []),
    ("uring", ["--threads", "2"]),
    ("epoll", ["--threads", "2"]),
    ("poll", ["--threads", "2"]),
]


def limit_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def start_connect(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(addr)
    except BlockingIOError:
        pass
    return s


def heard_back(socks, within):
    """The subset of socks that heard from the server within the given
    seconds: their connection closed (EOF or reset), or an echo of what
    they sent, should descriptors have freed up to serve them."""
    told = set()
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + within
    while len(told) < len(socks) and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
            s = key.fileobj
            try:
                s.recv(4096)
            except (ConnectionResetError, ConnectionRefusedError):
                pass
            except BlockingIOError:
                continue
            told.add(s)
            sel.unregister(s)
    sel.close()
    return told


def echo_works(addr):
    try:
        with connect(addr, timeout=1.0) as c:
            return echo_roundtrip(c, b"again", timeout=1.0) == b"again"
    except (OSError, AssertionError):
        return False


@pytest.mark.parametrize("model,extra", CASES, ids=[" ".join([m, *e]) for m, e in CASES])
def test_descriptor_limit_idle_and_waiting_clients_told(servers, model, extra):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["--max-conns", "1000", "-q", *extra],
                           preexec_fn=limit_descriptors)
    addr = server.addr("echo")
    held = [start_connect(addr) for _ in range(HELD)]
    late = []
    try:
        time.sleep(0.3)
        # Churn at the limit: clients leave, freeing descriptors that the
        # loops race for, and new ones arrive.
        for _ in range(CHURN_ROUNDS):
            for s in held[:CHURN_BATCH]:
                s.close()
            held = held[CHURN_BATCH:] + [start_connect(addr) for _ in range(CHURN_BATCH)]
            time.sleep(0.05)
        time.sleep(0.5)

        before = cpu_ticks(server.pid)
        time.sleep(WINDOW)
        ticks = cpu_ticks(server.pid) - before
        assert server.alive(), f"server died at its descriptor limit\n{server.describe()}"
        assert ticks < MAX_CPU_SHARE * CLOCK_TICKS * WINDOW, (
            f"{ticks} ticks of CPU in {WINDOW}s at the descriptor limit (idle is a few)")

        late = [start_connect(addr) for _ in range(LATE)]
        time.sleep(0.05)
        for s in late:
            try:
                s.send(b"x")
            except OSError:
                pass  # Already turned away, or still connecting: heard_back tells.
        told = heard_back(late, TOLD_WITHIN)
        assert len(told) == LATE, (
            f"{LATE - len(told)} of {LATE} clients arriving at the descriptor limit were "
            f"neither served nor turned away within {TOLD_WITHIN}s\n{server.describe()}")
    finally:
        for s in held + late:
            s.close()

    deadline = time.monotonic() + 5.0
    attempts = 0
    while attempts < 20 and time.monotonic() < deadline:
        attempts += 1
        if echo_works(addr):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"echo did not work again after the clients left ({attempts} tries)\n"
                             f"{server.describe()}")
    assert server.alive()
