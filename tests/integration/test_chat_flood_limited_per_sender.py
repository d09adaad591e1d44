"""
Each member may send --chat-rate lines a second (default 20, with a burst
of 40; off disables it). A paste within the burst passes whole; past it,
each line is refused with an error line to its sender alone, and never
reaches anyone else. /quit is never refused.
"""

import time

import pytest

from chat_helpers import CHAT_SETUPS, drain, join_as, start_chat
from harness import run_sockserv

SLOW_DOWN = b"!!! slow down: over 20 lines a second (40 at once); line ignored"
FLOOD = 200


@pytest.mark.parametrize("setup", ["epoll", "thread", "epoll --threads 3"])
def test_a_flood_is_refused_past_the_burst_and_a_paste_passes(servers, setup):
    assert setup in CHAT_SETUPS
    _, addr = start_chat(servers, setup)
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    drain(ann, bob)
    time.sleep(2.1)  # Both buckets full again: drain and /nick took tokens.

    # A pasted paragraph of 30 lines, well within the burst, all arrives.
    ann.send_raw(b"".join(b"paste %d\n" % i for i in range(30)))
    for i in range(30):
        bob.expect_next(f"ann: paste {i}")
    time.sleep(2.1)

    # A flood: the first 40 pass, each of the rest is refused, to ann
    # alone, with an error line. The 200 lines reach the server in one read
    # and are handled in well under a second, so at most a few more tokens
    # come back meanwhile.
    ann.send_raw(b"".join(b"flood %d\n" % i for i in range(FLOOD)))
    time.sleep(2.1)  # Let the buckets refill, so the marks of drain pass.
    refused, heard = drain(ann, bob)
    assert set(refused) == {SLOW_DOWN}, refused
    assert all(line.startswith(b"ann: flood ") for line in heard), heard
    numbers = [int(line.split()[-1]) for line in heard]
    assert numbers[:40] == list(range(40)) and numbers == sorted(numbers), numbers
    assert len(heard) + len(refused) == FLOOD, (len(heard), len(refused))
    assert len(heard) <= 50, f"{len(heard)} of {FLOOD} lines passed a burst of 40"

    # The sender is not cut off: later lines pass, and /quit always does.
    time.sleep(1.1)
    ann.send_line("after the flood")
    bob.expect_next("ann: after the flood")
    ann.send_raw(b"".join(b"again %d\n" % i for i in range(60)) + b"/quit done\n")
    ann.expect("*** bye")
    bob.expect("*** ann left lobby (quit: done)")


def test_rate_can_be_set_or_turned_off(servers):
    _, addr = start_chat(servers, "epoll", options=["--chat-rate", "5/10"])
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    drain(ann, bob)
    time.sleep(2.1)
    ann.send_raw(b"".join(b"line %d\n" % i for i in range(12)))
    for i in range(10):
        bob.expect_next(f"ann: line {i}")
    ann.expect_next("!!! slow down: over 5 lines a second (10 at once); line ignored")
    ann.expect_next("!!! slow down: over 5 lines a second (10 at once); line ignored")

    _, addr = start_chat(servers, "epoll", options=["--chat-rate", "off"])
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    drain(ann, bob)
    ann.send_raw(b"".join(b"line %d\n" % i for i in range(FLOOD)))
    for i in range(FLOOD):
        bob.expect_next(f"ann: line {i}")
    assert drain(ann, bob) == [[], []]


@pytest.mark.parametrize("option, value", [("--chat-rate", "fast"), ("--chat-rate", "-5"),
                                           ("--chat-rate", "20/0"), ("--chat-rate", "20/"),
                                           ("--chat-notices-max", "-1"),
                                           ("--chat-notices-max", "many")])
def test_bad_chat_options_exit_2_with_one_line(option, value):
    rc, out, err = run_sockserv(["serve", option, value, "tcp://127.0.0.1:0/chat"])
    assert rc == 2 and out == "", (rc, out, err)
    assert len(err.splitlines()) == 1 and f"bad {option} '{value}'" in err, err
