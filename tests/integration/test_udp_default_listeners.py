"""
With no LISTENER, `sockserv serve` serves every datagram service over UDP
too, on 127.0.0.1 at the same default ports as over TCP, and announces each
as `listening udp://127.0.0.1:PORT/SERVICE`.
"""

import socket

import pytest

from udp_helpers import request, udp_listeners, udp_socket, wait_udp_listening

DEFAULTS = {"echo": 7007, "discard": 7009, "daytime": 7013, "chargen": 7019, "time": 7037,
            "upper": 7100}


def busy_default_ports():
    """Default ports that something else holds, over TCP or UDP."""
    busy = []
    for port in DEFAULTS.values():
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            with socket.socket(socket.AF_INET, kind) as s:
                # As the server does: TIME_WAIT leftovers do not make a port busy.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    busy.append(f"{port}/{'tcp' if kind == socket.SOCK_STREAM else 'udp'}")
    return busy


def test_no_listener_serves_udp_twins_on_the_default_ports(servers):
    busy = busy_default_ports()
    if busy:
        pytest.skip(f"default ports {busy} are in use on this machine by something else")
    server = servers.start(options=["--delay", "50ms"], expect_lines=0)
    try:
        wait_udp_listening(server, len(DEFAULTS))
    except AssertionError:
        # Another default (chat's TCP port, say) may be held by something else.
        in_use = [l for l in server.stderr_text().splitlines() if "in use" in l]
        if busy_default_ports() or in_use:
            pytest.skip(f"a default port is taken by another program: {in_use}")
        raise
    announced = {service: (host, port) for host, port, service in udp_listeners(server)}
    assert announced == {s: ("127.0.0.1", p) for s, p in DEFAULTS.items()}, server.stdout_lines
    lines = [line for line in server.stdout_lines if line.startswith("listening udp://")]
    assert "listening udp://127.0.0.1:7007/echo\n" in lines, lines
    with udp_socket() as s:
        assert request(s, ("127.0.0.1", DEFAULTS["echo"]), b"default udp") == b"default udp"
        assert request(s, ("127.0.0.1", DEFAULTS["upper"]), b"quiet\n") == b"QUIET\n"
