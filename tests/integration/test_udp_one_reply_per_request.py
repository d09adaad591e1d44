"""
The amplification budget bounds every UDP service in datagrams as well as
bytes: without --allow-amplification a request gets at most one reply
datagram, no longer than itself (or than 32 bytes, for daytime's and time's
answers to an empty datagram). upper answers every line of a datagram in
one reply after one delay, so a datagram of 1,000 newlines gets one reply of
1,000 bytes, not 1,000 replies (28 times the request on the wire).
"""

import pytest

from harness import MODELS
from udp_helpers import datagrams_within, start_udp, udp_addr, udp_socket


@pytest.mark.parametrize("model", MODELS)
def test_a_thousand_newlines_get_one_reply(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/upper", model=model,
                       options=["--delay", "1ms"])
    request = b"\n" * 1000
    with udp_socket(rcvbuf=4 * 1024 * 1024) as s:
        s.sendto(request, udp_addr(server, "upper"))
        got = datagrams_within(s, 1.5)
    assert len(got) == 1, f"{model}: {len(got)} replies to one datagram of 1,000 newlines"
    assert got[0] == request


@pytest.mark.parametrize("model", ["epoll", "iterative"])
def test_lines_of_one_datagram_come_back_together_after_one_delay(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/upper", model=model,
                       options=["--delay", "200ms"])
    with udp_socket() as s:
        s.sendto(b"one\r\ntwo\nthree", udp_addr(server, "upper"))
        got = datagrams_within(s, 0.9)
    assert got == [b"ONE\r\nTWO\nTHREE"], f"{model}: {got!r}"


@pytest.mark.parametrize("service,size", [("daytime", 26), ("time", 4)])
def test_empty_requests_get_one_small_answer(servers, service, size):
    server = start_udp(servers, f"udp://127.0.0.1:0/{service}")
    with udp_socket() as s:
        s.sendto(b"", udp_addr(server, service))
        got = datagrams_within(s, 0.5)
    assert len(got) == 1 and 0 < len(got[0]) <= 32, f"{service}: {got!r}"
    assert len(got[0]) <= size
