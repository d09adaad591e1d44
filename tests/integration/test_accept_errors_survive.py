"""
Running out of file descriptors does not kill the server or make it spin:
with a limit of 64 descriptors and 100 clients knocking, it stays alive,
stays idle, and serves again once the clients leave.
"""

import resource
import time

import pytest

from harness import (CONCURRENT_MODELS, connect, echo_roundtrip, group_cpu_ticks,
                     open_nonblocking_connections)

FD_LIMIT = 64
CLIENTS = 100
WINDOW = 0.8
MAX_TICKS = 12  # A spinning accept loop burns about 100 ticks a second.


def limit_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def echo_works(addr):
    try:
        with connect(addr, timeout=1.0) as c:
            return echo_roundtrip(c, b"again", timeout=1.0) == b"again"
    except (OSError, AssertionError):
        return False


# The iterative model holds one connection at a time and never runs out.
@pytest.mark.native_speed  # MAX_TICKS is a budget at native speed.
@pytest.mark.parametrize("model", CONCURRENT_MODELS)
def test_server_survives_running_out_of_descriptors(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["-q"],
                           preexec_fn=limit_descriptors)
    addr = server.addr("echo")
    clients = open_nonblocking_connections(addr, CLIENTS, timeout=2.0)
    try:
        time.sleep(0.2)
        before = group_cpu_ticks(server.pid)
        time.sleep(WINDOW)
        ticks = group_cpu_ticks(server.pid) - before
        assert server.alive(), f"server died with {CLIENTS} clients\n{server.describe()}"
    finally:
        for c in clients:
            c.close()
    assert ticks < MAX_TICKS, f"{ticks} ticks of CPU in {WINDOW}s while out of descriptors"

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
