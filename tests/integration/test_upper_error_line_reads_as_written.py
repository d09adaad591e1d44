"""
An overlong line sent to upper is answered, in its place, with an error
line that reads as written, lowercase, not uppercased like an answer.
"""

import pytest

from harness import MODELS, connect, recv_until


@pytest.mark.parametrize("model", ["epoll", "thread"])
def test_overlong_line_gets_a_lowercase_error_in_its_place(servers, model):
    server = servers.start("tcp://127.0.0.1:0/upper", model=model,
                           options=["--delay", "10ms", "--max-line", "64"])
    assert model in MODELS
    with connect(server.addr("upper")) as c:
        c.sendall(b"before\n" + b"x" * 100 + b"\nafter\n")
        assert recv_until(c, b"\n") == b"BEFORE\n"
        assert recv_until(c, b"\n") == b"error: line too long (max 64 bytes)\n"
        assert recv_until(c, b"\n") == b"AFTER\n"
