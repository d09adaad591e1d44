"""
A 64 MiB stream through echo comes back byte-identical, sent and received
at the same time, under every model.
"""

import hashlib
import random

import pytest

from harness import MODELS, connect, first_difference, stream_through

SIZE = 64 * 1024 * 1024


@pytest.fixture(scope="module")
def payload():
    return random.Random(64).randbytes(SIZE)


@pytest.mark.parametrize("model", MODELS)
def test_64mib_echo_stream_comes_back_identical(servers, model, payload):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["-q"])
    with connect(server.addr("echo")) as c:
        back = stream_through(c, payload, timeout=60)
    offset = first_difference(back, payload)
    assert offset is None, (
        f"{len(back)} of {len(payload)} bytes came back; first difference at offset {offset}")
    assert hashlib.sha256(back).digest() == hashlib.sha256(payload).digest()
