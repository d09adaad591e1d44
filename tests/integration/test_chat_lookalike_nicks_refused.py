"""
Nicks that look alike are one nick: while someone is alice, nobody may be
aIice (capital I), a1ice (digit one), ALICE or al1CE, and rnary and vvill
are taken while mary and will are here. The nick refused as a look-alike
is answered with the nick it looks like. Nicks compare by a confusable
skeleton (UTS #39), as well as without case.
"""

import pytest

from chat_helpers import join, join_as, start_chat


@pytest.mark.parametrize("setup", ["epoll", "thread"])
def test_a_nick_like_anothers_is_refused_naming_it(servers, setup):
    _, addr = start_chat(servers, setup)
    alice = join_as(addr, "alice")
    mary = join_as(addr, "mary")
    will = join_as(addr, "will")
    bob0 = join_as(addr, "b0b")
    other = join(addr)
    for alike, owner in [("aIice", "alice"), ("a1ice", "alice"), ("al1CE", "alice"),
                         ("AIIce", "alice"), ("rnary", "mary"), ("MARY", None),
                         ("vvill", "will"), ("WiLL", None), ("bob", "b0b"), ("BOB", "b0b"),
                         ("BoB", "b0b")]:
        reply = other.command(f"/nick {alike}")
        if owner is None or alike.lower() == owner.lower():
            assert reply == f"!!! nick {alike} is taken".encode(), (alike, reply)
        else:
            assert reply == f"!!! nick {alike} looks like {owner}, who is here".encode(), \
                (alike, reply)
    # Unlike nicks are still free.
    assert other.command("/nick alicia") == b"*** you are now alicia"
    other.nick = "alicia"
    # A private message finds the nick by the same rule.
    other.send_line("/msg A1ICE hello")
    alice.expect("[private] alicia: hello")
    # Once alice is gone, the look-alike is free.
    alice.send_line("/quit")
    alice.expect("*** bye")
    other.expect("*** alice left lobby (quit)")
    assert other.command("/nick a1ice") == b"*** you are now a1ice"
    for member in (mary, will, bob0):
        member.expect("*** alicia is now known as a1ice")
