"""
When a worker dies, the kernel closes the connections it held; the metrics
count them closed, so the open gauge goes back to what the live workers
hold, and the replacement worker counts on from there.
"""

import os
import signal
import socket

from harness import children_of, connect, echo_roundtrip, wait_until
from metrics_helpers import scrape, value

CLIENTS = 8


def workers_of(pid):
    return {child for child, state in children_of(pid).items() if state not in "ZX"}


def lost(sock):
    """True once the server side of sock is gone (EOF or reset)."""
    sock.settimeout(0.2)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def test_a_killed_workers_connections_are_counted_closed(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", "tcp://127.0.0.1:0/metrics",
                           model="epoll", options=["--workers", "2", "-q"])
    host, port = server.addr("echo")
    echo = f"tcp://{host}:{port}/echo"
    assert wait_until(lambda: len(workers_of(server.pid)) == 2, 5.0)
    held = [connect((host, port)) for _ in range(CLIENTS)]
    try:
        for c in held:
            assert echo_roundtrip(c, b"hello") == b"hello"
        assert value(scrape(server.addr("metrics")), "sockserv_connections_open", echo) == CLIENTS
        victim = min(workers_of(server.pid))
        os.kill(victim, signal.SIGKILL)
        assert wait_until(lambda: victim not in workers_of(server.pid), 5.0)
        alive = [c for c in held if not lost(c)]

        def counted():
            s = scrape(server.addr("metrics"))
            return (value(s, "sockserv_connections_open", echo),
                    value(s, "sockserv_connections_closed_total", echo))

        want = (len(alive), CLIENTS - len(alive))
        assert wait_until(lambda: counted() == want, 5.0), (counted(), want)
        # The replacement and the survivor serve and count on.
        with connect((host, port)) as c:
            assert echo_roundtrip(c, b"again") == b"again"
    finally:
        for c in held:
            c.close()
    assert wait_until(lambda: value(scrape(server.addr("metrics")), "sockserv_connections_open",
                                    echo) == 0, 5.0)
