"""
Clients that vanish with a TCP reset (in the middle of a stream, while a
reply is pending, or before sending anything) never crash the server, and
other clients carry on undisturbed.
"""

import time

import pytest

from harness import (MODELS, chargen_stream, close_with_reset, connect, echo_roundtrip,
                     recv_exactly, recv_until)

DELAY = 0.2


def fill_without_reading(sock, limit=4 * 1024 * 1024):
    """Sends until the socket would block (or limit bytes): the server is
    then stuck writing echoes nobody reads."""
    sock.setblocking(False)
    chunk = b"r" * 65536
    sent = 0
    while sent < limit:
        try:
            sent += sock.send(chunk)
        except BlockingIOError:
            break
    return sent


@pytest.mark.parametrize("model", MODELS)
def test_resetting_clients_do_not_hurt_the_server_or_others(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", "tcp://127.0.0.1:0/chargen",
                           "tcp://127.0.0.1:0/upper", model=model,
                           options=["--delay", f"{int(DELAY * 1000)}ms"])
    echo, chargen, upper = server.addr("echo"), server.addr("chargen"), server.addr("upper")
    # The iterative model serves one client at a time, so it gets no bystander.
    bystander = connect(echo) if model != "iterative" else None
    try:
        if bystander:
            assert echo_roundtrip(bystander, b"before") == b"before"

        c = connect(echo)
        assert echo_roundtrip(c, b"x") == b"x"
        fill_without_reading(c)
        close_with_reset(c)

        c = connect(chargen)
        recv_exactly(c, 10000)
        close_with_reset(c)

        c = connect(upper)
        c.sendall(b"answer to nobody\n")
        close_with_reset(c)

        for _ in range(5):
            close_with_reset(connect(echo))

        time.sleep(DELAY * 2)  # Upper now writes its answer into the reset.
        assert server.alive(), f"server died\n{server.describe()}"

        if bystander:
            assert echo_roundtrip(bystander, b"after") == b"after"
            bystander.close()
            bystander = None
        with connect(echo) as c:
            assert echo_roundtrip(c, b"fresh") == b"fresh"
        with connect(chargen) as c:
            assert recv_exactly(c, 1000) == chargen_stream(1000)
        with connect(upper) as c:
            c.sendall(b"fresh\n")
            assert recv_until(c, b"\n") == b"FRESH\n"
        assert server.alive(), f"server died\n{server.describe()}"
    finally:
        if bystander:
            bystander.close()
