"""
/quit ends the conversation: the server answers "*** bye" and closes, and
nothing the client sent after /quit is acted on, even when it arrived in
the same packet.
"""

import pytest

from chat_helpers import CHAT_SETUPS, drain, join_as, start_chat


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_lines_after_quit_in_the_same_packet_are_ignored(servers, setup):
    _, addr = start_chat(servers, setup)
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    drain(ann, bob)
    bob.send_raw(b"/quit bye\nsaid after quit\n/nick zed\n")
    assert bob.wait_eof() == [b"*** bye"]
    _, skipped = ann.expect("*** bob left lobby (quit: bye)")
    assert skipped == [], f"acted on after /quit: {skipped!r}"
