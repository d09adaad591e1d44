"""
SIGTERM stops every loop of --threads 2 gracefully: each loop closes its
own listening socket at once (so no new client gets in through either of
them), a pending upper answer is still sent, and the server exits 0.

SO_REUSEPORT hashes each connect to one of the loops' sockets, so a loop
that kept its socket open would accept some of ten fresh connects. With
--balance shared the loops hold one socket between them, and it must close
when the last of them lets go.
"""

import os
import signal
import time

import pytest

from harness import connect, connect_refused, recv_for, recv_until, wait_until

LOOP_MODELS = ["select", "poll", "epoll", "uring"]
PROBES = 10


def wait_for_loops(server, count=2, timeout=5.0):
    """Waits until the process runs count threads. The server announces its
    listeners before the other loops have bound their sockets, and a client
    that connects before then always lands on the first loop."""
    ok = wait_until(lambda: len(os.listdir(f"/proc/{server.pid}/task")) >= count, timeout)
    assert ok, f"--threads {count}: only {os.listdir(f'/proc/{server.pid}/task')} threads"


def all_refused(addr):
    return all(connect_refused(addr, timeout=0.2) for _ in range(PROBES))


@pytest.mark.parametrize("balance", ["reuseport", "shared"])
@pytest.mark.parametrize("model", LOOP_MODELS)
def test_sigterm_answers_the_pending_line_then_exits_0(servers, model, balance):
    server = servers.start("tcp://127.0.0.1:0/upper", model=model,
                           options=["--threads", "2", "--delay", "1s", "--balance", balance])
    addr = server.addr("upper")
    wait_for_loops(server)
    with connect(addr) as c:
        c.sendall(b"finish me\n")
        time.sleep(0.2)
        signalled = time.monotonic()
        server.signal(signal.SIGTERM)
        refused = wait_until(lambda: all_refused(addr), timeout=0.5, interval=0.02)
        refused_after = time.monotonic() - signalled
        reply = recv_until(c, b"\n", timeout=5)
        answered_after = time.monotonic() - signalled
        rest, eof = recv_for(c, 3.0)
    assert refused, f"new clients still got in {refused_after:.2f}s after SIGTERM"
    assert reply == b"FINISH ME\n"
    assert answered_after > 0.5, f"answered {answered_after:.2f}s after SIGTERM: before the delay"
    assert eof and rest == b"", f"after the answer: {rest!r}, EOF {eof}"
    rc = server.wait_exit(5.0)
    assert rc == 0, f"exit status {rc} (None: still running)\n{server.describe()}"
    assert all_refused(addr), "connections accepted after the server exited"
