"""
A client that sends and then shuts down its sending side (half-close) still
gets every echoed byte, then EOF: the server finishes writing before it
closes.
"""

import random
import socket

import pytest

from harness import MODELS, connect, recv_all, stream_through


@pytest.mark.parametrize("model", MODELS)
def test_half_closed_client_gets_every_byte_then_eof(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model)
    # More than the socket buffers hold, so the server is still writing
    # when it sees the client's EOF.
    data = random.Random(862).randbytes(4 * 1024 * 1024)
    with connect(server.addr("echo")) as c:
        back = stream_through(c, data, timeout=30)
    assert len(back) == len(data)
    assert back == data


@pytest.mark.parametrize("model", MODELS)
def test_small_writes_followed_by_half_close_all_come_back(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model)
    with connect(server.addr("echo")) as c:
        for piece in (b"one ", b"two ", b"three"):
            c.sendall(piece)
        c.shutdown(socket.SHUT_WR)
        assert recv_all(c) == b"one two three"
