"""
--max-per-source N: one source holds at most N connections at once; one
more is closed at once without a byte, another source is untouched, and a
slot freed by a close is given back. The limit holds for the whole server:
across --threads loops, --workers processes and --balance shared, whose
loops and workers each see only some of the source's connections.
"""

import contextlib
import os
import signal

import pytest

from access_helpers import try_echo_from, wait_served
from harness import CONCURRENT_MODELS

LIMIT = 2


def open_from(addr, source, count, stack):
    """Opens count echo connections from source; returns how many were served."""
    served = 0
    for _ in range(count):
        sock, ok = try_echo_from(addr, source)
        stack.enter_context(sock)
        served += ok
    return served


@pytest.mark.parametrize("model", CONCURRENT_MODELS)
def test_one_source_is_held_to_the_limit_and_another_is_not(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["--max-per-source", str(LIMIT)])
    addr = server.addr("echo")
    with contextlib.ExitStack() as stack:
        held = []
        for _ in range(LIMIT):
            sock, ok = try_echo_from(addr, "127.0.0.1")
            stack.enter_context(sock)
            assert ok, f"{model}: a connection within the limit was refused"
            held.append(sock)
        extra, ok = try_echo_from(addr, "127.0.0.1")
        stack.enter_context(extra)
        assert not ok, f"{model}: connection {LIMIT + 1} from one source was served"
        assert open_from(addr, "127.0.0.2", LIMIT, stack) == LIMIT, \
            f"{model}: another source was refused"
        held[0].close()
        again = wait_served(addr, "127.0.0.1")
        assert again is not None, f"{model}: the slot a close freed was not given back"
        stack.enter_context(again)
    server.wait_for_stderr(r"refused 1 client from 127\.0\.0\.1: --max-per-source reached")


@pytest.mark.parametrize("options", [
    ["-m", "epoll", "--threads", "2"],
    ["--workers", "2"],
    ["--workers", "2", "--balance", "shared"],
], ids=["threads-2", "workers-2", "workers-2-shared"])
def test_the_limit_holds_across_loops_and_workers(servers, options):
    server = servers.start("tcp://127.0.0.1:0/echo",
                           options=[*options, "--max-per-source", str(LIMIT)])
    addr = server.addr("echo")
    with contextlib.ExitStack() as stack:
        # Each connection has a port of its own, so the kernel spreads them
        # over loops and workers: a limit per loop would serve up to 2 x N.
        served = open_from(addr, "127.0.0.1", 3 * LIMIT, stack)
        assert served == LIMIT, f"{options}: {served} of one source's connections were served"
        assert open_from(addr, "127.0.0.2", LIMIT, stack) == LIMIT


def worker_pids(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def test_a_dead_workers_connections_stop_counting(servers):
    server = servers.start("tcp://127.0.0.1:0/echo",
                           options=["--workers", "1", "--max-per-source", "1"])
    addr = server.addr("echo")
    with contextlib.ExitStack() as stack:
        sock, ok = try_echo_from(addr, "127.0.0.1")
        stack.enter_context(sock)
        assert ok
        extra, ok = try_echo_from(addr, "127.0.0.1")
        stack.enter_context(extra)
        assert not ok
        (worker,) = worker_pids(server.pid)
        os.kill(worker, signal.SIGKILL)
        server.wait_for_stderr(r"worker 0 \(pid \d+\) killed by signal 9")
        # Its connection died with it: the source may connect again.
        again = wait_served(addr, "127.0.0.1")
        assert again is not None, "a killed worker's connection still counted against its source"
        stack.enter_context(again)


def test_a_killed_connection_process_gives_its_slot_back(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="fork",
                           options=["--max-per-source", "1"])
    addr = server.addr("echo")
    with contextlib.ExitStack() as stack:
        sock, ok = try_echo_from(addr, "127.0.0.1")
        stack.enter_context(sock)
        assert ok
        (child,) = worker_pids(server.pid)
        os.kill(child, signal.SIGKILL)
        # The process died before its connection could close itself: the
        # parent gives the slot back as it reaps it.
        again = wait_served(addr, "127.0.0.1")
        assert again is not None, "a killed connection process kept its source's slot"
        stack.enter_context(again)
