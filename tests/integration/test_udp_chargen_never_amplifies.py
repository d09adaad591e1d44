"""
chargen over UDP is the classic reflection amplifier (US-CERT TA14-017A):
RFC 864 answers any datagram with 0 to 512 random characters. sockserv's
answer is never longer than the request that asked for it, under every
model; --allow-amplification restores the RFC's random length of 0 to 512,
whatever the request.
"""

import pytest

from harness import MODELS
from udp_helpers import (CHARGEN_UDP_MAX, assert_chargen_pattern, request, start_udp, udp_addr,
                         udp_socket)

SIZES = (0, 1, 2, 10, 74, 100, 511, 512, 513, 600, 4000)


@pytest.mark.parametrize("model", MODELS)
def test_reply_is_never_longer_than_the_request(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/chargen", model=model)
    with udp_socket() as s:
        for size in SIZES:
            reply = request(s, udp_addr(server, "chargen"), b"\x00" * size)
            assert len(reply) <= min(size, CHARGEN_UDP_MAX), (
                f"{model}: a {size}-byte request got {len(reply)} bytes back")
            assert_chargen_pattern(reply)


@pytest.mark.parametrize("model", MODELS)
def test_allow_amplification_gives_random_lengths_up_to_512(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/chargen", model=model,
                       options=["--allow-amplification"])
    lengths = []
    with udp_socket() as s:
        for i in range(12):
            reply = request(s, udp_addr(server, "chargen"), b"" if i % 2 else b"?")
            assert len(reply) <= CHARGEN_UDP_MAX, f"{model}: {len(reply)} bytes"
            assert_chargen_pattern(reply)
            lengths.append(len(reply))
    assert max(lengths) > 1, f"{model}: replies to tiny requests were {lengths}"
    # The RFC's length is random: one length for every reply is not.
    assert len(set(lengths)) > 1, (
        f"{model}: with --allow-amplification every reply had the same length: {lengths}")
