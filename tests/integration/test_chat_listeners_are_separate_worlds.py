"""
Each chat listener is a world of its own: two chat listeners on one server
share no nicks, no guest numbers, no rooms and no lines, under every model
that runs chat. Under --threads one listener is still one world, although
each loop accepts its clients on a socket of its own (or, with --balance
shared, on a copy of one).
"""

import os
import re

import pytest

from chat_helpers import CHAT_SETUPS, assert_silent, drain, join, join_as
from harness import wait_until

LOOP_MODELS = ["select", "poll", "epoll", "uring"]
# Enough clients that all of them landing on one of two loops (1 in 2**15)
# does not happen in practice.
CLIENTS = 16


def start_two_chats(servers, setup):
    """A server with two chat listeners under setup ("MODEL OPTION...");
    returns the server and the two (host, port) pairs."""
    model, *options = setup.split()
    server = servers.start("tcp://127.0.0.1:0/chat", "tcp://127.0.0.1:0/chat", model=model,
                           options=options)
    chats = [(l.host, l.port) for l in server.listeners if l.service == "chat"]
    assert len(chats) == 2 and chats[0] != chats[1], server.listeners
    return server, chats[0], chats[1]


def wait_for_loops(server, count):
    """The server announces its listeners before its other loops run; a
    client that came sooner would always land on the first loop."""
    tasks = f"/proc/{server.pid}/task"
    ok = wait_until(lambda: len(os.listdir(tasks)) >= count, 5.0)
    assert ok, f"--threads {count}: only {len(os.listdir(tasks))} threads"


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_a_nick_taken_on_one_listener_is_free_on_the_other(servers, setup):
    _, east, west = start_two_chats(servers, setup)
    # Guest numbers are counted per listener: each world starts at guest1.
    first_east = join(east)
    first_west = join(west)
    assert first_east.nick == "guest1" and first_west.nick == "guest1"

    ann_east = join_as(east, "ann")
    ann_west = join_as(west, "ann")
    bob_east = join_as(east, "bob")
    drain(first_east, ann_east, bob_east)
    drain(first_west, ann_west)
    assert bob_east.command("/nick ann") == b"!!! nick ann is taken"
    # bob exists only in the east: the west cannot reach him.
    assert ann_west.command("/msg bob hello") == b"!!! no such nick: bob"
    ann_east.send_line("/msg bob hello")
    bob_east.expect_next("[private] ann: hello")
    # The west's ann leaving frees the nick there only.
    ann_west.send_line("/quit")
    ann_west.wait_eof()
    first_west.expect_next("*** ann left lobby (quit)")
    assert first_west.command("/nick ann") == b"*** you are now ann"
    assert bob_east.command("/nick ann") == b"!!! nick ann is taken"


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_a_line_in_one_listeners_lobby_stays_there(servers, setup):
    _, east, west = start_two_chats(servers, setup)
    ann = join_as(east, "ann")
    bob = join_as(east, "bob")
    cat = join_as(west, "cat")
    dan = join_as(west, "dan")
    drain(ann, bob)
    drain(cat, dan)

    ann.send_line("hello from the east")
    bob.expect_next("ann: hello from the east")
    cat.send_line("hello from the west")
    dan.expect_next("cat: hello from the west")
    assert_silent(ann, bob)
    assert_silent(cat, dan)

    assert ann.command("/who") in (b"*** 2 in lobby: ann, bob", b"*** 2 in lobby: bob, ann")
    assert cat.command("/who") in (b"*** 2 in lobby: cat, dan", b"*** 2 in lobby: dan, cat")
    # A room made in the east does not exist in the west.
    assert bob.command("/join den") == b"*** you joined den (1 here)"
    ann.expect_next("*** bob left lobby (joined den)")
    assert cat.command("/rooms") == b"*** 1 room: lobby (2)"
    assert dan.command("/join den") == b"*** you joined den (1 here)"
    cat.expect_next("*** dan left lobby (joined den)")
    assert_silent(ann, bob)


@pytest.mark.parametrize("setup", [f"{m} --threads 2" for m in LOOP_MODELS] +
                         ["epoll --threads 2 --balance shared"])
def test_one_listener_under_threads_is_one_world(servers, setup):
    model, *options = setup.split()
    server = servers.start("tcp://127.0.0.1:0/chat", model=model, options=[*options, "-q"])
    addr = server.addr("chat")
    wait_for_loops(server, 2)
    clients = [join_as(addr, f"n{i:02d}") for i in range(CLIENTS)]
    drain(*clients)

    # Every nick is taken for every client, whichever loop it is on.
    last = clients[-1]
    for other in clients[:-1]:
        assert last.command(f"/nick {other.nick.upper()}") == \
            f"!!! nick {other.nick.upper()} is taken".encode()
    # Everyone is in the one lobby, and hears everyone else.
    line = last.command("/who")
    m = re.fullmatch(rb"\*\*\* 16 in lobby: (.*)", line)
    assert m, line
    assert sorted(m.group(1).split(b", ")) == sorted(c.nick.encode() for c in clients)
    clients[0].send_line("one world")
    for c in clients[1:]:
        c.expect_next(f"{clients[0].nick}: one world")
    assert server.alive(), server.describe()
