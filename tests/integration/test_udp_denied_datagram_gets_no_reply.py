"""
A UDP datagram from a denied source is dropped before any work (no reply,
nothing served), counted and logged; an allowed source is answered. Under
every model, since each receives datagrams its own way.
"""

import pytest

from harness import MODELS
from udp_helpers import datagrams_within, request, start_udp, udp_addr, udp_socket


@pytest.mark.parametrize("model", MODELS)
def test_denied_datagram_is_dropped_and_allowed_one_answered(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/echo", model=model,
                       options=["--deny", "127.0.0.2/32"])
    addr = udp_addr(server, "echo")
    with udp_socket(bind=("127.0.0.2", 0)) as denied, udp_socket(bind=("127.0.0.1", 0)) as ok:
        denied.sendto(b"let me in", addr)
        assert request(ok, addr, b"hello") == b"hello"
        assert datagrams_within(denied, 0.3) == []
    server.wait_for_stderr(r"dropped 1 datagram from 127\.0\.0\.2: denied \(total 1\)")


def test_a_udp_listeners_own_allow_list(servers):
    server = start_udp(servers, "udp://127.0.0.1:0/echo?allow=127.0.0.2")
    addr = udp_addr(server, "echo")
    with udp_socket(bind=("127.0.0.1", 0)) as denied, udp_socket(bind=("127.0.0.2", 0)) as ok:
        denied.sendto(b"let me in", addr)
        assert request(ok, addr, b"hello") == b"hello"
        assert datagrams_within(denied, 0.3) == []
