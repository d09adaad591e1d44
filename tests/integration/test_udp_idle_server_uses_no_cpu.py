"""
An idle UDP server uses no CPU under any model: it sleeps in the kernel
both before any datagram and after serving one of each service (no timer
left ticking, no busy receive loop). The models are measured side by side.
"""

import time

import pytest

from harness import CLOCK_TICKS, MODELS, SERVICES, ServerPool, group_cpu_ticks
from udp_helpers import collect_replies, start_udp, udp_addr, udp_socket

SETTLE = 1.0
WINDOW = 2.0
MAX_TICKS = 5  # 50 ms of CPU in 2 s at the usual 100 ticks per second.


def measure(servers):
    before = {m: group_cpu_ticks(s.pid) for m, s in servers.items()}
    time.sleep(WINDOW)
    return {m: group_cpu_ticks(s.pid) - before[m] for m, s in servers.items()}


@pytest.fixture(scope="module")
def idle_ticks():
    listeners = [f"udp://127.0.0.1:0/{service}" for service in SERVICES]
    with ServerPool() as pool:
        servers = {m: start_udp(pool, *listeners, model=m, options=["--delay", "100ms"])
                   for m in MODELS}
        time.sleep(SETTLE)
        never_asked = measure(servers)
        socks = []
        try:
            for server in servers.values():
                for service in SERVICES:
                    s = udp_socket()
                    socks.append(s)
                    s.sendto(b"wake up\n", udp_addr(server, service))
            answering = len(socks) - len(servers)  # discard never answers.
            replies = collect_replies(socks, answering, timeout=5.0)
            assert len(replies) == answering, f"{len(replies)} of {answering} datagrams answered"
        finally:
            for s in socks:
                s.close()
        time.sleep(0.3)
        after_serving = measure(servers)
    return {"never asked": never_asked, "after serving": after_serving}


@pytest.mark.parametrize("model", MODELS)
def test_udp_server_never_asked_uses_no_cpu(idle_ticks, model):
    ticks = idle_ticks["never asked"][model]
    assert ticks < MAX_TICKS, (
        f"{model}: {ticks} ticks ({ticks / CLOCK_TICKS:.2f}s of CPU) in {WINDOW}s "
        "with no datagrams")


@pytest.mark.parametrize("model", MODELS)
def test_udp_server_uses_no_cpu_after_serving(idle_ticks, model):
    ticks = idle_ticks["after serving"][model]
    assert ticks < MAX_TICKS, (
        f"{model}: {ticks} ticks ({ticks / CLOCK_TICKS:.2f}s of CPU) in {WINDOW}s "
        "after one datagram to each service")
