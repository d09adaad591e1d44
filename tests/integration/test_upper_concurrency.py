"""
Upper's delay is per connection: twenty clients waiting at once are all
answered after about one delay under every concurrent model, while the
iterative model answers them one after another.
"""

import time

import pytest

from harness import CONCURRENT_MODELS, connect, recv_until

CLIENTS = 20


@pytest.mark.parametrize("model", CONCURRENT_MODELS)
def test_twenty_delayed_clients_are_answered_together(servers, model):
    server = servers.start("tcp://127.0.0.1:0/upper", model=model, options=["--delay", "1s", "-q"])
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


def test_iterative_model_serves_one_client_at_a_time(servers):
    server = servers.start("tcp://127.0.0.1:0/upper", model="iterative",
                           options=["--delay", "300ms", "-q"])
    clients = [connect(server.addr("upper")) for _ in range(3)]
    try:
        start = time.monotonic()
        for i, c in enumerate(clients):
            c.sendall(b"client %d\n" % i)
        # The next client is served only once the previous one has left.
        for i, c in enumerate(clients):
            assert recv_until(c, b"\n") == b"CLIENT %d\n" % i
            c.close()
        elapsed = time.monotonic() - start
    finally:
        for c in clients:
            c.close()
    assert elapsed >= 0.8, f"3 clients answered in {elapsed:.2f}s: not one after another"
    assert elapsed < 5.0, f"3 clients took {elapsed:.2f}s"
