"""
Rooms: everyone starts in lobby; /join moves a client (creating the room),
and each room hears only its own members. Leaving and joining are
announced on both sides; /who and /rooms list members and rooms; a room
disappears when its last member leaves, except lobby.
"""

import re

import pytest

from chat_helpers import CHAT_SETUPS, assert_silent, drain, join_as, start_chat

BAD_ROOM = "!!! bad room name: use 1-32 letters, digits, '-' or '_'"


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_rooms_hear_only_their_own_members(servers, setup):
    _, addr = start_chat(servers, setup)
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    cat = join_as(addr, "cat")
    drain(ann, bob, cat)

    assert bob.command("/join Den") == b"*** you joined Den (1 here)"
    for c in (ann, cat):
        c.expect_next("*** bob left lobby (joined Den)")
    # Room names ignore case: cat lands in bob's Den, spelled as it was made.
    assert cat.command("/join den") == b"*** you joined Den (2 here)"
    bob.expect_next("*** cat joined Den")
    ann.expect_next("*** cat left lobby (joined Den)")

    bob.send_line("in the den")
    cat.expect_next("bob: in the den")
    ann.send_line("in the lobby")
    cat.send_line("/me purrs")
    bob.expect_next("* cat purrs")
    # Nothing crossed between the rooms.
    assert_silent(ann, bob, cat)

    assert ann.command("/join den") == b"*** you joined Den (3 here)"
    assert ann.command("/join DEN") == b"!!! you are already in Den"
    for c in (bob, cat):
        c.expect_next("*** ann joined Den")
    # lobby, now empty, stays; nobody hears about a room they are not in.
    assert ann.command("/rooms") in (b"*** 2 rooms: Den (3), lobby (0)",
                                     b"*** 2 rooms: lobby (0), Den (3)")


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_who_rooms_and_empty_rooms_vanish(servers, setup):
    _, addr = start_chat(servers, setup)
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    drain(ann, bob)

    line = ann.command("/who")
    m = re.fullmatch(rb"\*\*\* 2 in lobby: (.*)", line)
    assert m and sorted(m.group(1).split(b", ")) == [b"ann", b"bob"], line

    assert bob.command("/join attic") == b"*** you joined attic (1 here)"
    assert bob.command("/who") == b"*** 1 in attic: bob"
    ann.expect_next("*** bob left lobby (joined attic)")
    assert ann.command("/rooms") in (b"*** 2 rooms: attic (1), lobby (1)",
                                     b"*** 2 rooms: lobby (1), attic (1)")

    # The last one out of attic takes it away; nobody is left to be told.
    assert bob.command("/join lobby") == b"*** you joined lobby (2 here)"
    ann.expect_next("*** bob joined lobby")
    assert ann.command("/rooms") == b"*** 1 room: lobby (2)"

    for bad in ("", "two words", "r" * 33, "caf\u00e9", "a.b"):
        assert bob.command(f"/join {bad}") == BAD_ROOM.encode(), bad
    # Refused joins moved nobody and told nobody.
    assert bob.command("/who") in (b"*** 2 in lobby: ann, bob", b"*** 2 in lobby: bob, ann")
    assert_silent(bob, ann)


@pytest.mark.parametrize("setup", ["epoll", "thread", "epoll --threads 3"])
def test_who_lists_a_big_room_in_lines_of_forty(servers, setup):
    _, addr = start_chat(servers, setup)
    clients = [join_as(addr, f"n{i:02d}") for i in range(45)]
    last = clients[-1]
    drain(last)
    last.send_line("/who")
    first = last.read_line()
    second = last.read_line()
    assert first.startswith(b"*** 45 in lobby: ") and second.startswith(b"*** 45 in lobby: ")
    names = first[len(b"*** 45 in lobby: "):].split(b", ") + \
        second[len(b"*** 45 in lobby: "):].split(b", ")
    assert len(first[len(b"*** 45 in lobby: "):].split(b", ")) == 40
    assert sorted(names) == sorted(f"n{i:02d}".encode() for i in range(45))
