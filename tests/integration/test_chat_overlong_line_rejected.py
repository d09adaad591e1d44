"""
A line longer than --max-line (default 4 KiB) is answered with one error
line and thrown away up to its end; none of it reaches the room, and the
connection goes on as if it had never been sent.
"""

import pytest

from chat_helpers import CHAT_SETUPS, assert_silent, drain, join, start_chat

TOO_LONG = b"!!! line too long (max 4096 bytes): discarded"


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_64k_line_is_rejected_and_connection_stays_usable(servers, setup):
    _, addr = start_chat(servers, setup)
    ann = join(addr)
    bob = join(addr)
    drain(ann, bob)

    # 64 KiB in one line, sent with the next line right behind it.
    bob.send_raw(b"y" * 65536 + b"\r\nafter the long one\n")
    assert bob.read_line() == TOO_LONG
    ann.expect_next(f"{bob.nick}: after the long one")
    assert_silent(bob, ann)

    # The limit itself is fine; one byte more is not.
    bob.send_line(b"z" * 4096)
    ann.expect_next(f"{bob.nick}: ".encode() + b"z" * 4096)
    assert bob.command(b"z" * 4097) == TOO_LONG
    assert bob.command("/who").startswith(b"*** 2 in lobby: ")


def test_max_line_option_sets_the_limit(servers):
    _, addr = start_chat(servers, "epoll", options=["--max-line", "100"])
    ann = join(addr)
    bob = join(addr)
    drain(ann, bob)
    assert bob.command(b"q" * 101) == b"!!! line too long (max 100 bytes): discarded"
    bob.send_line(b"q" * 100)
    ann.expect_next(f"{bob.nick}: ".encode() + b"q" * 100)
