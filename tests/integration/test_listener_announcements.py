"""
The server announces every listener it bound on stdout, with the real port,
before serving: IPv4 as tcp://127.0.0.1:P/svc, IPv6 bracketed, "*" as one
line per family on one port, host names resolved, and the six default
services when no listener is given.
"""

import re
import socket

import pytest

from harness import connect, echo_roundtrip, recv_until

DEFAULTS = {"echo": 7007, "discard": 7009, "daytime": 7013, "chargen": 7019, "time": 7037,
            "upper": 7100}


def test_announcement_lines_have_the_exact_format(servers, require_ipv6):
    server = servers.start("tcp://127.0.0.1:0/echo", "tcp://[::1]:0/upper",
                           options=["--delay", "50ms"])
    lines = sorted(server.stdout_lines)
    assert len(lines) == 2, lines
    assert re.fullmatch(r"listening tcp://127\.0\.0\.1:[1-9][0-9]*/echo\n", lines[0]), lines
    assert re.fullmatch(r"listening tcp://\[::1\]:[1-9][0-9]*/upper\n", lines[1]), lines
    with connect(server.addr("echo")) as c:
        assert echo_roundtrip(c, b"v4") == b"v4"
    with connect(server.addr("upper", socket.AF_INET6)) as c:
        c.sendall(b"v6\n")
        assert recv_until(c, b"\n") == b"V6\n"


def test_fixed_port_is_announced_and_used(servers):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = servers.start(f"tcp://127.0.0.1:{port}/echo")
    assert server.addr("echo") == ("127.0.0.1", port)
    with connect(("127.0.0.1", port)) as c:
        assert echo_roundtrip(c, b"fixed") == b"fixed"


def test_wildcard_listens_on_both_families_with_one_port(servers, require_ipv6):
    server = servers.start("tcp://*:0/echo")
    hosts = sorted(l.host for l in server.listeners)
    assert hosts == ["0.0.0.0", "::"], server.listeners
    ports = {l.port for l in server.listeners}
    assert len(ports) == 1 and 0 not in ports, server.listeners
    port = ports.pop()
    for host in ("127.0.0.1", "::1"):
        with connect((host, port)) as c:
            assert echo_roundtrip(c, host.encode()) == host.encode()


def test_host_name_is_resolved(servers):
    server = servers.start("tcp://localhost:0/echo", expect_lines=1)
    server.collect_more_listening(0.3)
    assert server.listeners, "no listener announced for localhost"
    for l in server.listeners:
        assert l.host in ("127.0.0.1", "::1"), f"localhost announced as {l.host}"
        with connect((l.host, l.port)) as c:
            assert echo_roundtrip(c, b"name") == b"name"


def test_many_listeners_of_one_service_all_serve(servers):
    server = servers.start(*["tcp://127.0.0.1:0/echo"] * 5)
    ports = [l.port for l in server.listeners]
    assert len(set(ports)) == 5, ports
    for port in ports:
        with connect(("127.0.0.1", port)) as c:
            assert echo_roundtrip(c, b"%d" % port) == b"%d" % port


def default_ports_busy():
    busy = []
    for port in DEFAULTS.values():
        with socket.socket() as s:
            # As the server does: TIME_WAIT leftovers do not make a port busy.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                busy.append(port)
    return busy


def test_no_listener_serves_the_six_defaults_on_loopback(servers):
    busy = default_ports_busy()
    if busy:
        pytest.skip(f"default ports {busy} are in use on this machine by something else")
    try:
        server = servers.start(expect_lines=len(DEFAULTS))
    except AssertionError:
        if default_ports_busy():
            pytest.skip("a default port was taken by another program while the test ran")
        raise
    announced = {l.service: (l.host, l.port) for l in server.listeners}
    assert announced == {s: ("127.0.0.1", p) for s, p in DEFAULTS.items()}
    with connect(("127.0.0.1", DEFAULTS["echo"])) as c:
        assert echo_roundtrip(c, b"default") == b"default"
