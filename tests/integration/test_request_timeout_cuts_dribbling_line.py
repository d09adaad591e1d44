"""
--request-timeout D cuts a client of a line service (upper, chat) whose
unfinished line got its first byte D ago, under every model, so a slowloris
dribbling one byte at a time can no longer hold a slot. The time runs from
the line's first byte, not its last, so dribbling faster does not help; a
client that keeps finishing its lines, however slowly, is never cut. upper
says why in its error form before the cut; chat tells the member, and the
room sees "request timeout" as the reason it left.
"""

import select
import time

import pytest

from chat_helpers import join, start_chat
from harness import MODELS, connect, recv_exactly, recv_for, run_sockserv

TIMEOUT = "1s"
STEP_S = 0.3  # One byte from each client per step.
# Cut once the line is 1 s old, by a timer: allow for a loaded machine.
CUT_WITHIN_S = (0.8, 3.0)
UPPER_CUT_LINE = b"error: line not finished within 1s (request timeout)\n"
# The active client's line "ab\n" takes two steps from first byte to end.
ACTIVE_PATTERN = [b"a", b"b", b"\n"]


def start_upper(servers, model, options=()):
    server = servers.start("tcp://127.0.0.1:0/upper", model=model,
                           options=["--delay", "0", *options])
    return server.addr("upper")


class Dribbler:
    """A client that sends one byte of a line that never ends each step,
    and notes what it was sent and when the server closed it."""

    def __init__(self, addr):
        self.sock = connect(addr)
        self.start = time.monotonic()
        self.received = b""
        self.closed_after = None

    def step(self):
        if self.closed_after is None:
            try:
                self.sock.send(b"x")
            except OSError:
                self.note_closed()

    def note_closed(self):
        if self.closed_after is None:
            self.closed_after = time.monotonic() - self.start

    def read(self):
        try:
            data = self.sock.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if data:
            self.received += data
        else:
            self.note_closed()


def run_steps(dribbler, active, least_s, most_s):
    """Runs both clients for least_s, and on until the dribbler is cut or
    most_s have passed; returns what active was sent so far, and what it
    should be sent in all once its last line ends."""
    answers = bytearray()
    start = time.monotonic()
    step = 0
    while time.monotonic() - start < (least_s if dribbler.closed_after is not None else most_s):
        dribbler.step()
        active.send(ACTIVE_PATTERN[step % len(ACTIVE_PATTERN)])
        step += 1
        wake = start + step * STEP_S
        while (left := wake - time.monotonic()) > 0:
            watched = [active] + ([dribbler.sock] if dribbler.closed_after is None else [])
            readable, _, _ = select.select(watched, [], [], left)
            if dribbler.sock in readable:
                dribbler.read()
            if active in readable:
                data = active.recv(4096)
                assert data, "an active client finishing each line within 0.6s was cut"
                answers += data
    tail = b"".join(ACTIVE_PATTERN[:step % len(ACTIVE_PATTERN)])
    if tail:
        active.sendall(b"\n")
    expected = b"AB\n" * (step // len(ACTIVE_PATTERN)) + (tail.upper() + b"\n" if tail else b"")
    return bytes(answers), expected


@pytest.mark.parametrize("model", MODELS)
def test_dribbler_is_cut_and_active_client_is_not(servers, model):
    addr = start_upper(servers, model, ["--request-timeout", TIMEOUT])
    dribbler = Dribbler(addr)
    # Under iterative it waits behind the dribbler: the cut frees its turn.
    active = connect(addr)
    try:
        # Its own bytes span more than the timeout, in lines of 0.6s.
        answers, expected = run_steps(dribbler, active, 1.5, CUT_WITHIN_S[1])
        assert dribbler.closed_after is not None, (
            f"a client dribbling a never-ending line was still open after {CUT_WITHIN_S[1]}s "
            f"(got {dribbler.received!r})")
        low, high = CUT_WITHIN_S
        assert low <= dribbler.closed_after <= high, (
            f"cut after {dribbler.closed_after:.2f}s, not about 1s")
        assert dribbler.received == UPPER_CUT_LINE, f"before the cut: {dribbler.received!r}"
        # Every line it finished is answered, and it is still served.
        answers += recv_exactly(active, len(expected) - len(answers), timeout=3.0)
        assert answers == expected
        active.sendall(b"last\n")
        assert recv_exactly(active, 5) == b"LAST\n"
    finally:
        dribbler.sock.close()
        active.close()


def test_off_the_default_and_other_services_keep_a_slow_line(servers):
    off = start_upper(servers, "epoll", ["--request-timeout", "off"])
    default = start_upper(servers, "epoll")
    # echo holds no lines, so the timeout is not its business.
    echo = servers.start("tcp://127.0.0.1:0/echo", model="epoll",
                         options=["--request-timeout", TIMEOUT]).addr("echo")
    socks = [connect(a) for a in (off, default, echo)]
    try:
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            for s in socks:
                s.sendall(b"x")
            time.sleep(STEP_S)
        for name, s in zip(["--request-timeout off", "the default", "echo"], socks):
            s.sendall(b"\n")
            data, eof = recv_for(s, 0.5)
            assert not eof and data.endswith(b"\n"), (
                f"{name}: a line sent over 1.5s was cut or not answered ({data!r}, EOF {eof})")
    finally:
        for s in socks:
            s.close()


# The cut itself is the core's, tested under every model above; chat's
# words about it under one model of each kind.
@pytest.mark.parametrize("model", ["thread", "epoll", "uring"])
def test_chat_member_hears_why_and_the_room_sees_the_reason(servers, model):
    _, addr = start_chat(servers, model, options=["--request-timeout", TIMEOUT])
    watcher = join(addr)
    dribbler = join(addr)
    try:
        watcher.expect(f"*** {dribbler.nick} joined lobby")
        end = time.monotonic() + 3.0
        while not dribbler.eof and time.monotonic() < end:
            try:
                dribbler.send_raw(b"y")
            except OSError:
                break
            dribbler._fill(time.monotonic() + STEP_S)
        lines = dribbler.wait_eof(timeout=2.0)
        assert lines == [b"*** closing: line not finished within 1s"], lines
        watcher.expect(f"*** {dribbler.nick} left lobby (request timeout)", timeout=2.0)
    finally:
        watcher.close()
        dribbler.close()


@pytest.mark.parametrize("value", ["0", "soon", "-1s", "", "1x"])
def test_bad_request_timeout_exits_2_with_one_line(value):
    rc, out, err = run_sockserv(["serve", "--request-timeout", value, "tcp://127.0.0.1:0/upper"])
    lines = err.strip().splitlines()
    assert rc == 2, f"exit {rc} for --request-timeout {value!r}; stderr {err!r}"
    assert len(lines) == 1, f"stderr {err!r}"
    assert f"bad --request-timeout '{value}'" in lines[0] and "or off" in lines[0], lines[0]
    assert out == ""

