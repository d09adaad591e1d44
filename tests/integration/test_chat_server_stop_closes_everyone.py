"""
A chat server told to stop (SIGTERM) closes every member's connection at
once, since nobody is owed an answer, and exits 0 well within --grace.
Members may hear the others leave on the way out; they hear nothing else.
"""

import re
import signal
import time

import pytest

from chat_helpers import CHAT_SETUPS, drain, join_as, start_chat

LEFT_RE = re.compile(rb"^\*\*\* (ann|bob|cat) left lobby \(server stopping\)$")


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_stop_closes_every_member_promptly(servers, setup):
    server, addr = start_chat(servers, setup, options=["--grace", "10s"])
    members = [join_as(addr, nick) for nick in ("ann", "bob", "cat")]
    drain(*members)
    members[0].send_raw(b"a half line that never ends")
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    for m in members:
        heard = m.wait_eof()
        assert all(LEFT_RE.match(line) for line in heard), f"{m.nick} heard {heard!r}"
        assert not any(m.nick.encode() + b" left" in line for line in heard), heard
    assert server.wait_exit(5) == 0, server.describe()
    assert time.monotonic() - started < 3, "the stop waited for the grace period"
