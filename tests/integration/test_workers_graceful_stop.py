"""
SIGTERM to the supervisor of --workers 2 stops every worker gracefully:
new clients are refused at once, every upper answer still due is sent
(whichever worker owes it), the supervisor exits 0 within the grace
period, and no worker process is left behind.
"""

import signal
import time

import pytest

from harness import (children_of, connect, connect_refused, processes_in_group, recv_for,
                     recv_until, wait_until)

WORKER_MODELS = ["epoll", "uring", "thread"]
CLIENTS = 6
PROBES = 10


def live(pids):
    """Those of pids still running (zombies count as gone)."""
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                text = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if text[text.rindex(")") + 2] not in "ZX":
            alive.add(pid)
    return alive


@pytest.mark.parametrize("model", WORKER_MODELS)
def test_sigterm_stops_every_worker_after_the_pending_answers(servers, model):
    server = servers.start("tcp://127.0.0.1:0/upper", model=model,
                           options=["--workers", "2", "--delay", "1s", "--grace", "5s"])
    addr = server.addr("upper")
    workers = wait_until(lambda: live(children_of(server.pid)) if len(
        live(children_of(server.pid))) == 2 else None, timeout=5.0)
    assert workers, f"expected 2 workers, found {children_of(server.pid)}\n{server.describe()}"
    clients = [connect(addr) for _ in range(CLIENTS)]
    try:
        for i, c in enumerate(clients):
            c.sendall(b"pending %d\n" % i)
        time.sleep(0.2)
        signalled = time.monotonic()
        server.signal(signal.SIGTERM)
        refused = wait_until(
            lambda: all(connect_refused(addr, timeout=0.2) for _ in range(PROBES)),
            timeout=0.5, interval=0.02)
        refused_after = time.monotonic() - signalled
        replies = [recv_until(c, b"\n", timeout=5) for c in clients]
        answered_after = time.monotonic() - signalled
        ends = [recv_for(c, 3.0) for c in clients]
    finally:
        for c in clients:
            c.close()
    assert replies == [b"PENDING %d\n" % i for i in range(CLIENTS)]
    assert answered_after > 0.5, f"answered {answered_after:.2f}s after SIGTERM: before the delay"
    assert all(eof and rest == b"" for rest, eof in ends), f"after the answers: {ends!r}"
    assert refused, f"new clients still got in {refused_after:.2f}s after SIGTERM"
    rc = server.wait_exit(5.0)
    assert rc == 0, f"supervisor exit status {rc} (None: still running)\n{server.describe()}"
    left = wait_until(lambda: not live(workers) and not live(processes_in_group(server.pid)),
                      timeout=2.0)
    assert left, f"still running after the supervisor exited: {live(workers)}"
    assert "killing them" not in server.stderr_text(), server.describe()
