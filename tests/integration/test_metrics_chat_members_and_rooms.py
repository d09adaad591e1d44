"""
The metrics service shows chat's members and its rooms with someone in
them, as members arrive, move between rooms and leave, under every model
that serves chat and with chat crossing --threads loops.
"""

import re

import pytest

from chat_helpers import CHAT_SETUPS, join
from harness import wait_until
from metrics_helpers import scrape, value


def figures(server):
    host, port = server.addr("chat")
    s = scrape(server.addr("metrics"))
    chat = f"tcp://{host}:{port}/chat"
    return (value(s, "sockserv_chat_members", chat), value(s, "sockserv_chat_rooms", chat))


def move(client, room):
    client.send_line(f"/join {room}")
    client.expect(re.compile(rb"^\*\*\* you joined " + room.encode() + rb" "))


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_members_and_rooms_follow_the_chat(servers, setup):
    model, *options = setup.split()
    server = servers.start("tcp://127.0.0.1:0/chat", "tcp://127.0.0.1:0/metrics", model=model,
                           options=options)
    addr = server.addr("chat")
    assert figures(server) == (0, 0)
    a, b, c = join(addr), join(addr), join(addr)
    try:
        assert figures(server) == (3, 1)
        move(b, "kitchen")
        assert figures(server) == (3, 2)
        move(c, "kitchen")
        assert figures(server) == (3, 2)
        move(b, "garden")
        move(c, "garden")  # The kitchen is empty now, and gone.
        assert figures(server) == (3, 2)
        a.close()
        # The lobby stays, but nobody is in it.
        assert wait_until(lambda: figures(server) == (2, 1), 5.0), figures(server)
    finally:
        for client in (a, b, c):
            client.close()
    assert wait_until(lambda: figures(server) == (0, 0), 5.0), figures(server)
    assert server.alive(), server.describe()
