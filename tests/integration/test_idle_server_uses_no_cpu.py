"""
An idle server uses no CPU under any model: no busy polling, no short
periodic wake-ups, neither with no clients nor with clients connected and
silent. The six models are measured side by side, so the whole file takes
a few seconds.
"""

import time

import pytest

from harness import (CLOCK_TICKS, MODELS, SERVICES, ServerPool, connect, echo_roundtrip,
                     group_cpu_ticks)

SETTLE = 1.0
WINDOW = 2.0
MAX_TICKS = 5  # 50 ms of CPU in 2 s at the usual 100 ticks per second.


def measure(servers):
    before = {m: group_cpu_ticks(s.pid) for m, s in servers.items()}
    time.sleep(WINDOW)
    return {m: group_cpu_ticks(s.pid) - before[m] for m, s in servers.items()}


@pytest.fixture(scope="module")
def idle_ticks():
    listeners = [f"tcp://127.0.0.1:0/{service}" for service in SERVICES]
    with ServerPool() as pool:
        servers = {m: pool.start(*listeners, model=m, options=["--delay", "1s"]) for m in MODELS}
        time.sleep(SETTLE)
        no_clients = measure(servers)
        clients = []
        try:
            for model, server in servers.items():
                c = connect(server.addr("echo"))
                clients.append(c)
                assert echo_roundtrip(c, b"still here") == b"still here"
                if model != "iterative":  # It serves one client at a time.
                    clients.append(connect(server.addr("upper")))
                    clients.append(connect(server.addr("discard")))
            time.sleep(0.3)
            with_clients = measure(servers)
        finally:
            for c in clients:
                c.close()
    return {"no clients": no_clients, "idle clients": with_clients}


@pytest.mark.parametrize("model", MODELS)
def test_server_without_clients_uses_no_cpu(idle_ticks, model):
    ticks = idle_ticks["no clients"][model]
    assert ticks < MAX_TICKS, (
        f"{model}: {ticks} ticks ({ticks / CLOCK_TICKS:.2f}s of CPU) in {WINDOW}s with no clients")


@pytest.mark.parametrize("model", MODELS)
def test_silent_connected_clients_use_no_cpu(idle_ticks, model):
    ticks = idle_ticks["idle clients"][model]
    assert ticks < MAX_TICKS, (
        f"{model}: {ticks} ticks ({ticks / CLOCK_TICKS:.2f}s of CPU) in {WINDOW}s "
        "with silent clients connected")
