"""
How --threads and --workers split clients (--balance).

reuseport, the default: each worker listens on sockets of its own
(SO_REUSEPORT), so the kernel hands each new client to a worker by a hash
of its address. One listening socket shared by all workers would instead
give each client to whichever worker happened to wake first: in a burst of
connections one or two workers took nearly all of them, and every other
worker sat idle. Here 90 clients connect at once, each completes an echo,
and while they are all still open each of three workers must hold a fair
part of them (30 on average; fewer than 10 would be a skew the hash
practically never makes). A UDP source, likewise, always reaches the same
worker, so its --udp-rate budget is the one the user set, not that budget
times the number of workers.

shared: every loop and worker takes clients from one socket. Every client
of a burst is served, under loops and under workers, over TCP and UDP.
"""

import os
import socket

import pytest

from harness import children_of, echo_roundtrip, open_nonblocking_connections, wait_until
from udp_helpers import start_udp, udp_addr

WORKERS = 3
CONNECTIONS = 90
AT_LEAST = 10


def workers_of(pid):
    return sorted(child for child, state in children_of(pid).items() if state not in "ZX")


def socket_links(pid):
    """'socket:[INODE]' for each socket descriptor pid holds, one per fd."""
    links = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:"):
            links.append(link)
    return links


def sockets_held(pid):
    return len(socket_links(pid))


def echo_burst(addr):
    """CONNECTIONS clients connect at once and each gets its echo; returns
    them still open."""
    socks = open_nonblocking_connections(addr, CONNECTIONS, timeout=5.0)
    for i, s in enumerate(socks):
        s.setblocking(True)
        s.settimeout(5.0)
        assert echo_roundtrip(s, b"client %d\n" % i) == b"client %d\n" % i
    return socks


@pytest.mark.parametrize("model", ["epoll", "uring", "thread"])
def test_reuseport_spreads_a_burst_of_clients_over_every_worker(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["--workers", str(WORKERS), "-q"])
    assert wait_until(lambda: len(workers_of(server.pid)) == WORKERS, timeout=5.0), (
        f"expected {WORKERS} workers, found {workers_of(server.pid)}")
    workers = workers_of(server.pid)
    # Each worker holds just its own listener once it has let go of the
    # other workers' copies it inherited.
    assert wait_until(lambda: all(sockets_held(w) == 1 for w in workers), timeout=5.0), (
        f"sockets held per worker: {[sockets_held(w) for w in workers]}")
    # Sockets of their own: no two workers listen on the same one.
    listening = [socket_links(w)[0] for w in workers]
    assert len(set(listening)) == WORKERS, f"workers listen on {listening}"
    socks = echo_burst(server.addr("echo"))
    try:
        held = {w: sockets_held(w) - 1 for w in workers}
        assert sum(held.values()) == CONNECTIONS, (
            f"workers hold {held} clients, expected {CONNECTIONS} in all")
        assert min(held.values()) >= AT_LEAST, (
            f"clients per worker {sorted(held.values())}: the load is not spread")
    finally:
        for s in socks:
            s.close()


def test_reuseport_gives_one_udp_source_its_rate_once_not_once_per_worker(servers):
    # 20 datagrams per second with a burst of 20: sent all at once from one
    # source, at most the burst (and a few refilled meanwhile) are echoed.
    # Buckets kept per worker would echo up to WORKERS times as many.
    server = start_udp(servers, "udp://127.0.0.1:0/echo", model="epoll",
                       options=["--workers", str(WORKERS), "--udp-rate", "20/20", "-q"])
    assert wait_until(lambda: len(workers_of(server.pid)) == WORKERS, timeout=5.0)
    workers = workers_of(server.pid)
    assert wait_until(lambda: all(sockets_held(w) == 1 for w in workers), timeout=5.0)
    sockets = [socket_links(w)[0] for w in workers]
    assert len(set(sockets)) == WORKERS, f"workers receive on {sockets}: one shared socket"
    host, port = udp_addr(server, "echo")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(1.0)
        for i in range(100):
            s.sendto(b"d%d\n" % i, (host, port))
        replies = 0
        try:
            while True:
                s.recv(64)
                replies += 1
        except socket.timeout:
            pass
    assert 20 <= replies <= 30, f"one source sent 100 datagrams in a burst and got {replies} back"


@pytest.mark.parametrize("model, split", [
    ("epoll", "--threads"), ("uring", "--threads"), ("poll", "--threads"),
    ("epoll", "--workers"), ("uring", "--workers"), ("thread", "--workers"),
])
def test_shared_serves_every_client_of_a_burst_over_tcp_and_udp(servers, model, split):
    server = start_udp(servers, "tcp://127.0.0.1:0/echo", "udp://127.0.0.1:0/echo", model=model,
                       options=[split, "2", "--balance", "shared", "-q"])
    server.wait_listening(1, 5.0)
    # Two holders (loops of one process, or two workers) of the same two
    # sockets: four descriptors, two sockets.
    if split == "--threads":
        holders = [server.pid]
    else:
        assert wait_until(lambda: len(workers_of(server.pid)) == 2, timeout=5.0)
        holders = workers_of(server.pid)
    assert wait_until(lambda: sum(sockets_held(h) for h in holders) == 4, timeout=5.0), (
        f"sockets held: {[socket_links(h) for h in holders]}")
    links = [link for h in holders for link in socket_links(h)]
    assert len(set(links)) == 2, f"--balance shared, yet the loops hold {links}"
    for s in echo_burst(server.addr("echo")):
        s.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(5.0)
        for i in range(10):
            u.sendto(b"datagram %d\n" % i, udp_addr(server, "echo"))
            assert u.recv(64) == b"datagram %d\n" % i
