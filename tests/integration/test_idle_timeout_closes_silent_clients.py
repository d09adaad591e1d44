"""
--idle-timeout D closes a TCP connection that moved no byte either way for
D, under every model, so one silent client cannot hold a slot (or, under
iterative, the whole server) forever. A client that keeps sending is never
cut, `off` turns the timeout off, and a chat member is told why before the
close.
"""

import time

import pytest

from chat_helpers import CHAT_MODELS, join, start_chat
from harness import MODELS, connect, echo_roundtrip, recv_exactly, recv_for, run_sockserv

IDLE = "1s"
# A 1 s timeout is checked by a timer: allow for a loaded machine.
CLOSE_WITHIN_S = 4.0


def time_until_closed(sock, limit):
    """Seconds until the server closed sock (EOF or reset), or None."""
    start = time.monotonic()
    data, eof = recv_for(sock, limit)
    assert data == b"", f"a silent client was sent {data!r}"
    return time.monotonic() - start if eof else None


@pytest.mark.parametrize("model", MODELS)
def test_silent_client_is_closed(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["--idle-timeout", IDLE])
    sock = connect(server.addr("echo"))
    try:
        # Served first, so the connection is surely open and accepted.
        assert echo_roundtrip(sock, b"hello") == b"hello"
        took = time_until_closed(sock, CLOSE_WITHIN_S + 1.0)
        assert took is not None, f"a silent client was still open after {CLOSE_WITHIN_S + 1.0}s"
        assert 0.8 <= took <= CLOSE_WITHIN_S, f"closed after {took:.2f}s of silence, not about 1s"
    finally:
        sock.close()


@pytest.mark.parametrize("model", MODELS)
def test_client_that_keeps_sending_is_not_closed(servers, model):
    # discard answers nothing: bytes in alone keep the connection alive.
    server = servers.start("tcp://127.0.0.1:0/discard", model=model,
                           options=["--idle-timeout", IDLE])
    sock = connect(server.addr("discard"))
    try:
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            sock.sendall(b"x")
            data, eof = recv_for(sock, 0.3)
            assert not eof and data == b"", (
                f"a client sending every 300 ms was closed (got {data!r})")
    finally:
        sock.close()


@pytest.mark.parametrize("model", ["iterative", "thread", "epoll", "uring"])
def test_off_keeps_a_silent_client(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["--idle-timeout", "off"])
    sock = connect(server.addr("echo"))
    try:
        assert echo_roundtrip(sock, b"a") == b"a"
        data, eof = recv_for(sock, 3.0)
        assert not eof and data == b"", "--idle-timeout off closed a silent client"
        assert echo_roundtrip(sock, b"b") == b"b"
    finally:
        sock.close()


def test_iterative_serves_the_next_client_once_a_silent_one_is_cut(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="iterative",
                           options=["--idle-timeout", IDLE])
    addr = server.addr("echo")
    silent = connect(addr)
    second = None
    try:
        assert echo_roundtrip(silent, b"first") == b"first"
        # Queued behind the silent one: the kernel's backlog takes it.
        second = connect(addr)
        second.sendall(b"second")
        assert recv_exactly(second, 6, timeout=CLOSE_WITHIN_S) == b"second"
        assert time_until_closed(silent, 1.0) is not None, "the silent client was not closed"
        assert echo_roundtrip(second, b"more") == b"more"
    finally:
        silent.close()
        if second is not None:
            second.close()


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_chat_member_is_told_before_the_close(servers, model):
    _, addr = start_chat(servers, model, options=["--idle-timeout", IDLE])
    member = join(addr)
    try:
        lines = member.wait_eof(timeout=CLOSE_WITHIN_S + 1.0)
        assert lines == [b"*** closing: idle for 1s"], f"before the close: {lines!r}"
    finally:
        member.close()


@pytest.mark.parametrize("value", ["0", "soon", "-1s", "", "1x"])
def test_bad_idle_timeout_exits_2_with_one_line(value):
    rc, out, err = run_sockserv(["serve", "--idle-timeout", value, "tcp://127.0.0.1:0/echo"])
    lines = err.strip().splitlines()
    assert rc == 2, f"exit {rc} for --idle-timeout {value!r}; stderr {err!r}"
    assert len(lines) == 1, f"stderr {err!r}"
    # Names the option and the value, and says what is allowed.
    assert f"bad --idle-timeout '{value}'" in lines[0] and "or off" in lines[0], lines[0]
    assert out == ""
