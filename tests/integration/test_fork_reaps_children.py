"""
The fork model serves each client in its own process and reaps every one:
no <defunct> children are left once clients are gone.
"""

from harness import children_of, connect, echo_roundtrip, recv_all, wait_until


def test_each_client_is_served_by_its_own_process(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="fork")
    clients = [connect(server.addr("echo")) for _ in range(5)]
    try:
        for i, c in enumerate(clients):
            assert echo_roundtrip(c, b"%d" % i) == b"%d" % i
        live = wait_until(
            lambda: [p for p, st in children_of(server.pid).items() if st != "Z"], timeout=2.0)
        assert len(live) >= 5, f"{len(live)} child processes for 5 connected clients"
    finally:
        for c in clients:
            c.close()


def test_no_zombies_after_clients_leave(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", "tcp://127.0.0.1:0/daytime", model="fork")
    clients = [connect(server.addr("echo")) for _ in range(10)]
    for i, c in enumerate(clients):
        assert echo_roundtrip(c, b"%d" % i) == b"%d" % i
    for c in clients:
        c.close()
    for _ in range(5):  # The server closes these itself.
        with connect(server.addr("daytime")) as c:
            assert recv_all(c).endswith(b"\r\n")

    gone = wait_until(lambda: not children_of(server.pid), timeout=3.0)
    children = children_of(server.pid)
    zombies = [pid for pid, st in children.items() if st == "Z"]
    assert not zombies, f"{len(zombies)} <defunct> children of the server: {zombies}"
    assert gone, f"children still running after every client left: {children}"
    assert server.alive()
