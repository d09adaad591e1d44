"""
--workers 2 runs two worker processes under a supervisor. When one is
killed (SIGKILL: no chance to clean up), the supervisor says so on stderr
and starts a new one at once, and the listener never stops serving: the
dead worker's listening socket belongs to the supervisor too, so a client
the kernel queues on it while the worker dies waits there for the
replacement, and every client that connects meanwhile gets its echo.

Each echo round trip is a connection of its own, finished before the next
starts, and the kill lands between two of them, so no client is ever in
the middle of being served by the worker that dies.
"""

import os
import re
import signal
import time

import pytest

from harness import LOG_PREFIX, children_of, connect, recv_exactly, wait_until

WORKER_MODELS = ["epoll", "uring", "thread"]
REPLACED_WITHIN = 2.0
AFTER = 0.5  # Round trips go on this long after the replacement appears.


def live_workers(pid):
    return {child for child, state in children_of(pid).items() if state not in "ZX"}


def is_dead(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return text[text.rindex(")") + 2] in "ZX"


def wait_for_workers(server, count, timeout=5.0):
    workers = wait_until(lambda: len(live_workers(server.pid)) == count and live_workers(server.pid),
                         timeout)
    assert workers and len(workers) == count, (
        f"expected {count} workers, found {live_workers(server.pid)}\n{server.describe()}")
    return workers


def round_trip(addr, n):
    """One echo on a connection of its own: None, or what went wrong."""
    payload = b"round trip %d\n" % n
    try:
        with connect(addr, timeout=2.0) as c:
            c.sendall(payload)
            got = recv_exactly(c, len(payload), timeout=2.0)
    except (OSError, AssertionError) as e:
        return f"round trip {n}: {e!r}"
    return None if got == payload else f"round trip {n}: got {got!r}"


def test_two_worker_processes_run_under_the_supervisor(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["--workers", "2", "-q"])
    workers = wait_for_workers(server, 2)
    try:
        with open(f"/proc/{server.pid}/task/{server.pid}/children") as f:
            listed = {int(p) for p in f.read().split()}
    except FileNotFoundError:
        listed = workers  # A kernel without CONFIG_PROC_CHILDREN.
    assert listed == workers, f"/proc children {listed} vs processes {workers}"
    for pid in workers:
        with open(f"/proc/{pid}/comm") as f:
            assert f.read().strip() == "sockserv", f"worker {pid} is not sockserv"
    for n in range(6):
        assert round_trip(server.addr("echo"), n) is None


@pytest.mark.parametrize("model", WORKER_MODELS)
def test_killed_worker_is_replaced_while_the_listener_keeps_serving(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["--workers", "2"])
    addr = server.addr("echo")
    workers = wait_for_workers(server, 2)
    failures = []
    n = 0
    for _ in range(10):
        failures += filter(None, [round_trip(addr, n)])
        n += 1
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    assert wait_until(lambda: is_dead(victim), timeout=2.0), f"worker {victim} survived SIGKILL"
    replaced_after = None
    replacement = set()
    while time.monotonic() - killed_at < REPLACED_WITHIN + AFTER:
        failures += filter(None, [round_trip(addr, n)])
        n += 1
        if replaced_after is None:
            now = live_workers(server.pid)
            if len(now) == 2 and victim not in now:
                replaced_after = time.monotonic() - killed_at
                replacement = now - workers
        elif time.monotonic() - killed_at > replaced_after + AFTER:
            break
    assert not failures, (
        f"{len(failures)} of {n} echo round trips failed around the kill of worker {victim}: "
        f"{failures[:5]}\n{server.describe()}")
    assert replaced_after is not None, (
        f"no new worker within {REPLACED_WITHIN}s of killing {victim}: workers now "
        f"{live_workers(server.pid)}\n{server.describe()}")
    assert len(replacement) == 1, f"workers before {workers}, after {workers | replacement}"
    server.wait_for_stderr(rf"worker [0-9]+ \(pid {victim}\) killed by signal {signal.SIGKILL}")
    assert server.alive(), server.describe()
    errors = [l for l in server.stderr_text().splitlines() if re.match(LOG_PREFIX + r"sockserv: error", l)]
    assert not errors, errors


def test_workers_stop_when_the_supervisor_is_killed(servers):
    # SIGKILL gives the supervisor no chance to stop its workers. Left
    # running, they would serve the port with nothing to replace them or to
    # stop them; the kernel tells each to stop instead, and idle workers
    # exit at once.
    server = servers.start("tcp://127.0.0.1:0/echo", options=["--workers", "2", "-q"])
    workers = wait_for_workers(server, 2)
    assert round_trip(server.addr("echo"), 0) is None
    server.signal(signal.SIGKILL)
    assert wait_until(lambda: all(is_dead(w) for w in workers), timeout=3.0), (
        f"workers {[w for w in workers if not is_dead(w)]} outlived their supervisor")
