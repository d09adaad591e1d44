"""
A client that vanishes in the middle of a line (a partial line, then a
TCP reset) costs the others nothing: its half line is never delivered,
the room hears it left, and the conversation goes on.
"""

import pytest

from chat_helpers import CHAT_SETUPS, assert_silent, drain, join, join_as, start_chat
from harness import close_with_reset


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_reset_mid_line_is_a_clean_leave(servers, setup):
    server, addr = start_chat(servers, setup)
    ann = join_as(addr, "ann")
    ghost = join_as(addr, "ghost")
    drain(ann, ghost)

    ghost.send_raw(b"half a li")
    close_with_reset(ghost.sock)
    ann.expect_next("*** ghost left lobby (connection lost)")

    # Several more, some before they said anything at all.
    gone = []
    for i in range(5):
        c = join(addr)
        gone.append(c.nick)
        if i % 2:
            c.send_raw(b"partial")
        close_with_reset(c.sock)
    heard = [ann.read_line() for _ in range(2 * len(gone))]
    assert sorted(heard) == sorted([f"*** {n} joined lobby".encode() for n in gone] +
                                   [f"*** {n} left lobby (connection lost)".encode() for n in gone]), \
        heard

    bob = join_as(addr, "bob")
    ann.expect_next(f"*** guest{len(gone) + 3} joined lobby")
    ann.expect_next(f"*** guest{len(gone) + 3} is now known as bob")

    bob.send_line("still talking?")
    ann.expect_next("bob: still talking?")
    assert ann.command("/who") in (b"*** 2 in lobby: ann, bob", b"*** 2 in lobby: bob, ann")
    assert server.alive()
    assert_silent(bob, ann)
