"""
Chat under --threads 2: the kernel hashes each connection to one of the two
loops, so the members of one room live on both, and a line crosses from
its sender's loop to the others' through a mailbox. Whatever the loops,
every member receives every other member's lines exactly once, each
sender's lines in the order they were sent, and nobody gets their own back.

Six senders, chosen across the joining order, send thirty lines each,
interleaved, to a room of thirty. With thirty connections the chance that
all of them land on one loop is 1 in 2**29.
"""

import os
import re
import select
import time

import pytest

from harness import IO_TIMEOUT, connect, recv_until, wait_until

LOOP_MODELS = ["select", "poll", "epoll", "uring"]
MEMBERS = 30
SENDERS = 6
MESSAGES = 30

WELCOME = re.compile(rb"^\*\*\* welcome to sockserv chat, ([A-Za-z0-9_-]+); you are in lobby ")
JOIN_NOTICE = re.compile(rb"^\*\*\* [A-Za-z0-9_-]+ joined lobby$")
MESSAGE = re.compile(rb"^([A-Za-z0-9_-]+): line ([0-9]+) of ([A-Za-z0-9_-]+)$")


def wait_for_loops(server, count=2, timeout=5.0):
    """Waits until the process runs count threads. The server announces its
    listeners before the other loops have bound their sockets, and a client
    that connects before then always lands on the first loop."""
    ok = wait_until(lambda: len(os.listdir(f"/proc/{server.pid}/task")) >= count, timeout)
    assert ok, f"--threads {count}: only {os.listdir(f'/proc/{server.pid}/task')} threads"


class Member:
    def __init__(self, addr):
        self.sock = connect(addr)
        self.pending = b""
        welcome = self.read_line(IO_TIMEOUT)
        m = WELCOME.match(welcome)
        assert m, f"not a welcome line: {welcome!r}"
        self.nick = m.group(1).decode()
        self.received = {}  # Sender nick: the sequence numbers, as they came.
        self.count = 0

    def read_line(self, timeout):
        while b"\r\n" not in self.pending:
            self.pending += recv_until(self.sock, b"\r\n", timeout)
        line, _, self.pending = self.pending.partition(b"\r\n")
        return line

    def take(self, line):
        """Files one line; only messages and join notices may come."""
        m = MESSAGE.match(line)
        if m is None:
            assert JOIN_NOTICE.match(line), f"{self.nick} got an unexpected line: {line!r}"
            return
        sender, seq, named = m.group(1).decode(), int(m.group(2)), m.group(3).decode()
        assert sender == named, f"{self.nick} got {line!r}: the line names another sender"
        self.received.setdefault(sender, []).append(seq)
        self.count += 1


@pytest.mark.parametrize("model", LOOP_MODELS)
def test_chat_across_loops_delivers_each_line_once_in_order(servers, model):
    server = servers.start("tcp://127.0.0.1:0/chat", model=model, options=["--threads", "2", "-q"])
    addr = server.addr("chat")
    wait_for_loops(server)
    members = []
    try:
        for _ in range(MEMBERS):
            members.append(Member(addr))
        senders = members[::MEMBERS // SENDERS][:SENDERS]
        for seq in range(MESSAGES):
            for s in senders:
                s.sock.sendall(f"line {seq} of {s.nick}\n".encode())
        deadline = time.monotonic() + 15
        for member in members:
            expected = MESSAGES * (SENDERS - (member in senders))
            while member.count < expected:
                remaining = deadline - time.monotonic()
                assert remaining > 0, (
                    f"{member.nick} got {member.count} of {expected} lines: "
                    f"{ {k: len(v) for k, v in member.received.items()} }\n{server.describe()}")
                member.take(member.read_line(remaining))
        # Anything more (a duplicate, say) would arrive within moments.
        quiet_until = time.monotonic() + 0.3
        socks = {m.sock: m for m in members}
        for m in members:
            while b"\r\n" in m.pending:
                line, _, m.pending = m.pending.partition(b"\r\n")
                m.take(line)
        while (remaining := quiet_until - time.monotonic()) > 0:
            readable, _, _ = select.select(list(socks), [], [], remaining)
            for sock in readable:
                m = socks[sock]
                m.pending += sock.recv(65536)
                while b"\r\n" in m.pending:
                    line, _, m.pending = m.pending.partition(b"\r\n")
                    m.take(line)
    finally:
        for m in members:
            m.sock.close()
    in_order = list(range(MESSAGES))
    for member in members:
        for s in senders:
            got = member.received.get(s.nick, [])
            if member is s:
                assert got == [], f"{member.nick} got its own lines back: {got}"
            else:
                assert got == in_order, (
                    f"{member.nick} got {s.nick}'s lines as {got}, expected 0..{MESSAGES - 1} "
                    f"once each, in order")
        assert set(member.received) <= {s.nick for s in senders}, member.received.keys()
    assert server.alive(), server.describe()
