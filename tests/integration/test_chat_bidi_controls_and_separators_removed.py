"""
The bidirectional controls (every character with the Unicode Bidi_Control
property: U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the
line and paragraph separators U+2028 and U+2029 are removed from chat text,
so no line can reorder what others see or break a line in two on their
screen. Their neighbours in the same blocks (ZWJ, dashes) pass.
"""

import pytest

from chat_helpers import CHAT_SETUPS, drain, join_as, start_chat


@pytest.mark.parametrize("setup", ["epoll", "epoll --threads 3"])
def test_reordering_and_separator_characters_do_not_reach_others(servers, setup):
    assert setup.split()[0] in CHAT_SETUPS
    _, addr = start_chat(servers, setup)
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    drain(ann, bob)

    cases = [
        # "Trojan Source": an override that shows "evil" as "live".
        ("pay \u202elive\u202c now", "pay live now"),
        ("a\u202ab\u202bc\u202cd\u202de\u202ef", "abcdef"),
        ("iso\u2066la\u2067te\u2068d\u2069!", "isolated!"),
        ("marks\u200e\u200f\u061c end", "marks end"),
        ("one\u2028two\u2029three", "onetwothree"),
        # Kept: an en dash, a ZWJ emoji sequence, a narrow no-break space.
        ("a\u2013b \U0001F469\u200d\U0001F4BB c\u202fd", "a\u2013b \U0001F469\u200d\U0001F4BB c\u202fd"),
    ]
    for sent, shown in cases:
        ann.send_line(sent.encode())
        bob.expect_next(f"ann: {shown}".encode())
    # A nick change's notice and a private message are cleaned the same way.
    ann.send_line("/me \u202ewaves".encode())
    bob.expect_next(b"* ann waves")
    ann.send_line("/msg bob \u2067psst\u2069".encode())
    bob.expect_next(b"[private] ann: psst")
    # A line of nothing but such characters says nothing.
    ann.send_line("\u202e\u2028".encode())
    ann.send_line(b"last")
    bob.expect_next(b"ann: last")
