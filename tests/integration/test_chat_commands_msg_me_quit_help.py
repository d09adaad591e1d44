"""
The commands besides /nick and the room ones: /msg reaches one person
wherever they are, /me acts, /quit leaves with a reason everyone hears,
/help lists the commands, and an unknown command or a usage mistake is
answered with an error while the connection stays open.
"""

import pytest

from chat_helpers import CHAT_SETUPS, assert_silent, drain, join_as, start_chat

HELP = [
    b"*** commands:",
    b"***   /nick NAME       change your nick (1-32 letters, digits, - or _)",
    b"***   /join ROOM       move to ROOM (created if new; the first room is lobby)",
    b"***   /who             list who is in your room",
    b"***   /rooms           list the rooms",
    b"***   /msg NICK TEXT   send TEXT to NICK alone",
    b"***   /me ACTION       act: shown as '* nick ACTION'",
    b"***   /quit [REASON]   leave",
    b"***   /help            this list",
    b"*** any other line goes to everyone in your room",
]


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_private_messages_reach_one_person_in_any_room(servers, setup):
    _, addr = start_chat(servers, setup)
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    eve = join_as(addr, "eve")
    drain(ann, bob, eve)
    assert bob.command("/join far") == b"*** you joined far (1 here)"
    drain(ann, bob, eve)

    # Nick lookup ignores case; the text keeps its inner spacing.
    ann.send_line("/msg BOB   psst,  over here ")
    bob.expect_next("[private] ann: psst,  over here ")
    bob.send_line("/msg ann hi")
    ann.expect_next("[private] bob: hi")
    # Nobody else hears a private word, and the sender gets no echo.
    assert_silent(ann, bob, eve)

    assert ann.command("/msg nobody hello") == b"!!! no such nick: nobody"
    assert ann.command("/msg bob") == b"!!! usage: /msg NICK text"
    assert ann.command("/msg") == b"!!! usage: /msg NICK text"
    assert_silent(ann, bob, eve)


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_me_quit_with_reason_and_unknown_commands(servers, setup):
    _, addr = start_chat(servers, setup)
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    drain(ann, bob)

    bob.send_line("/me waves at everyone")
    ann.expect_next("* bob waves at everyone")
    # A leading space makes a line that starts with / a message.
    bob.send_line(" /me is not a command here")
    ann.expect_next("bob:  /me is not a command here")
    assert bob.command("/me") == b"!!! usage: /me ACTION"

    # Mistakes are answered, and the connection goes on.
    assert bob.command("/dance") == b"!!! unknown command /dance (try /help)"
    assert bob.command("/NICK x") == b"!!! unknown command /NICK (try /help)"
    bob.send_line("/help")
    assert [bob.read_line() for _ in HELP] == HELP
    bob.send_line("still here")
    ann.expect_next("bob: still here")

    bob.send_line("/quit off to   bed")
    assert bob.wait_eof() == [b"*** bye"]
    ann.expect_next("*** bob left lobby (quit: off to   bed)")

    # Without a reason, the reason is just "quit"; the nick is free again.
    cat = join_as(addr, "cat")
    ann.expect_next("*** guest3 joined lobby")
    ann.expect_next("*** guest3 is now known as cat")
    cat.send_line("/quit")
    assert cat.wait_eof() == [b"*** bye"]
    ann.expect_next("*** cat left lobby (quit)")
    assert ann.command("/nick bob") == b"*** you are now bob"
