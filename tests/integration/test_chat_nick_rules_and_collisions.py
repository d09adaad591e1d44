"""
Nicks: every client starts as guestN, with numbers that are never handed
out twice; a nick is 1-32 of A-Za-z0-9-_ and unique without regard to
case; a change is announced to the room.
"""

import pytest

from chat_helpers import CHAT_SETUPS, assert_silent, drain, join, join_as, start_chat

BAD_NICK = "!!! bad nick: use 1-32 letters, digits, '-' or '_'"


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_nick_collisions_ignore_case(servers, setup):
    _, addr = start_chat(servers, setup)
    alice = join_as(addr, "Alice")
    bob = join(addr)
    drain(alice, bob)

    for taken in ("alice", "ALICE", "Alice"):
        assert bob.command(f"/nick {taken}") == f"!!! nick {taken} is taken".encode()
    # Still bob's old nick: others see it on his messages.
    bob.send_line("still me")
    alice.expect_next(f"{bob.nick}: still me")

    # The owner may change the case of her own nick.
    assert alice.command("/nick ALICE") == b"*** you are now ALICE"
    bob.expect_next("*** Alice is now known as ALICE")

    # A released nick is free again, in any case.
    assert alice.command("/nick carol") == b"*** you are now carol"
    bob.expect_next("*** ALICE is now known as carol")
    assert bob.command("/nick alice") == b"*** you are now alice"
    alice.expect_next(f"*** {bob.nick} is now known as alice")


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_bad_nicks_are_refused_and_change_nothing(servers, setup):
    _, addr = start_chat(servers, setup)
    alice = join(addr)
    bob = join(addr)
    drain(alice, bob)
    for bad in ("", "two words", "a" * 33, "dot.ted", "sla/sh", "h\u00e9", "tab\there"):
        assert bob.command(f"/nick {bad}") == BAD_NICK.encode(), bad
    # Exactly 32 characters from the whole alphabet is fine.
    longest = "Az09-_" + "x" * 26
    assert bob.command(f"/nick {longest}") == f"*** you are now {longest}".encode()
    bob.nick = longest
    alice.expect_next(f"*** guest2 is now known as {longest}")
    assert_silent(bob, alice)


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_guest_numbers_are_never_reused(servers, setup):
    _, addr = start_chat(servers, setup)
    first = join(addr)
    second = join(addr)
    assert (first.nick, second.nick) == ("guest1", "guest2")
    second.close()
    first.expect("*** guest2 left lobby (connection closed)")

    # guest2 is free again, but the next client still gets a new number.
    third = join(addr)
    assert third.nick == "guest3"

    # A number someone took with /nick is skipped, not shared.
    first.expect("*** guest3 joined lobby")
    assert first.command("/nick guest4") == b"*** you are now guest4"
    fourth = join(addr)
    assert fourth.nick == "guest5"

    # Even a nick released by a rename is not handed to a guest again.
    third.expect("*** guest5 joined lobby")
    assert third.command("/nick tom") == b"*** you are now tom"
    assert join(addr).nick == "guest6"
