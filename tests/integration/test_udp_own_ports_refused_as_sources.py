"""
The loop defence covers sockserv's own ports: a datagram whose source port
is one of the server's UDP listening ports, on any address, is dropped
unanswered, so a forged datagram can never start a loop between two of its
listeners, or between a listener and itself. The test cannot forge the
listener's own address, but binds the same port on another loopback
address (127.0.0.2), which the kernel allows because the server bound
127.0.0.1 alone.
"""

import re

import pytest

from harness import MODELS
from udp_helpers import datagrams_within, request, start_udp, udp_addr, udp_socket

DROP_LINE = re.compile(r"dropped \d+ datagrams? \(source port is one of this server's UDP ports")


def bind_or_skip(addr):
    try:
        return udp_socket(bind=addr)
    except OSError as e:
        pytest.skip(f"cannot bind {addr} as a client: {e}")


@pytest.mark.parametrize("model", MODELS)
def test_a_source_on_an_own_port_gets_no_answer(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/echo", "udp://127.0.0.1:0/chargen",
                       model=model, options=["--udp-rate", "off"])
    echo = udp_addr(server, "echo")
    chargen = udp_addr(server, "chargen")
    # From echo's port to echo itself, and from chargen's port to echo.
    for source_port in (echo[1], chargen[1]):
        with bind_or_skip(("127.0.0.2", source_port)) as s:
            s.sendto(b"loop me", echo)
            s.sendto(b"loop me too", chargen)
            got = datagrams_within(s, 0.4)
        assert got == [], f"{model}: a source on own port {source_port} was answered: {got!r}"
    server.wait_for_stderr(DROP_LINE.pattern)
    # An ordinary source is still served.
    with udp_socket() as s:
        assert request(s, echo, b"fine") == b"fine"
