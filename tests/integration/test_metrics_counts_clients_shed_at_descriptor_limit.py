"""
A server out of descriptors turns waiting clients away at once; the
metrics service counts each of them as refused (reason "no_descriptors"),
so every client that came is either accepted or refused.
"""

import resource
import socket
import time

import pytest

from harness import wait_until
from metrics_helpers import scrape, value

FD_LIMIT = 48
CLIENTS = 70  # More than the server can hold at FD_LIMIT.


def start_connect(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(addr)
    except BlockingIOError:
        pass
    return s


def limit_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


@pytest.mark.parametrize("model", ["epoll", "uring"])
def test_every_client_is_accepted_or_counted_refused(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", "tcp://127.0.0.1:0/metrics", model=model,
                           options=["--max-conns", "1000", "-q"], preexec_fn=limit_descriptors)
    host, port = server.addr("echo")
    echo = f"tcp://{host}:{port}/echo"
    socks = [start_connect((host, port)) for _ in range(CLIENTS)]
    time.sleep(0.5)
    for s in socks:
        s.close()

    def figures():
        try:
            s = scrape(server.addr("metrics"))
        except (OSError, AssertionError):
            return None  # Still at the limit: this scrape was turned away too.
        return (value(s, "sockserv_connections_accepted_total", echo),
                value(s, "sockserv_connections_refused_total", echo, reason="no_descriptors"),
                value(s, "sockserv_connections_open", echo))

    def all_accounted():
        f = figures()
        return f is not None and f[0] + f[1] == CLIENTS and f[2] == 0

    assert wait_until(all_accounted, 10.0, interval=0.2), figures()
    accepted, refused, _ = figures()
    assert refused > 0 and accepted < FD_LIMIT, (accepted, refused)
