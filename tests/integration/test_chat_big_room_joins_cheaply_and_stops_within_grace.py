"""
Joining a big room costs the server the same as joining a small one, and a
server with a big room stops within --grace.

Rooms of up to --chat-notices-max members (default 100) announce who
arrives; bigger ones do not, or N members joining would be N^2 lines, and
a client arriving at a busy server would wait seconds for its welcome. A
stopping server announces no departures, which would again be N^2 lines.
Before this, 2,500 members cost the server 0.9 s of CPU under epoll (6 s
with --threads 2), a newcomer then waited 1.2 s (12 s) for its welcome, and
a stop with --grace 1s took 1.8 s (8 s).
"""

import os
import re
import selectors
import signal
import socket
import time

import pytest

from chat_helpers import start_chat

MEMBERS = 2500
NOTICES_MAX = 100
DEADLINE = 20.0
WELCOME_RE = re.compile(rb"^\*\*\* welcome to sockserv chat, (guest[0-9]+); "
                        rb"you are in lobby \(([0-9]+) here\)")
QUIET = b"*** lobby has over 100 members: arrivals and departures are not announced " \
        b"(/who lists them)"


def cpu_seconds(pid):
    """User plus system CPU time the process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_available(sel, data, wait):
    """Reads whatever arrives within wait seconds into data[sock]."""
    end = time.monotonic() + wait
    while True:
        remaining = end - time.monotonic()
        if remaining <= 0:
            return
        for key, _ in sel.select(timeout=remaining):
            chunk = key.fileobj.recv(65536)
            assert chunk, "the server closed a member's connection"
            data[key.fileobj] += chunk


def lines_of(raw):
    assert raw.endswith(b"\r\n"), raw[-200:]
    return raw[:-2].split(b"\r\n")


def expected_lines(count):
    """What the member whose welcome said count should have heard: one
    notice per later arrival into a room of at most NOTICES_MAX, or, in a
    bigger room, one line saying it is quiet."""
    if count > NOTICES_MAX:
        return [QUIET]
    return [b"joined"] * (NOTICES_MAX - count)


@pytest.mark.parametrize("setup", ["epoll", "epoll --threads 2"])
def test_big_room_joins_cost_little_and_stop_honours_grace(servers, setup):
    server, addr = start_chat(servers, setup, options=["--grace", "1s", "-q"])
    started = time.monotonic()
    deadline = started + DEADLINE
    sel = selectors.DefaultSelector()
    socks = []
    try:
        data = {}
        for _ in range(MEMBERS):
            sock = socket.create_connection(addr, timeout=10)
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ)
            socks.append(sock)
            data[sock] = bytearray()
        # Everyone has a welcome.
        waiting = set(socks)
        while waiting:
            assert time.monotonic() < deadline, \
                f"{len(waiting)} of {MEMBERS} members still wait for a welcome after {DEADLINE}s"
            read_available(sel, data, 0.2)
            waiting = {sock for sock in waiting if b"\r\n" not in data[sock]}
        joins_cpu = cpu_seconds(server.pid)

        # A newcomer is welcomed at once, and told the room is quiet.
        connected = time.monotonic()
        with socket.create_connection(addr, timeout=DEADLINE) as newcomer:
            got = b""
            while b"\r\n" not in got:
                chunk = newcomer.recv(4096)
                assert chunk, got
                got += chunk
            welcomed = time.monotonic() - connected
            newcomer.settimeout(2)
            try:
                while got.count(b"\r\n") < 2:
                    chunk = newcomer.recv(4096)
                    assert chunk, got
                    got += chunk
            except socket.timeout:
                pass
            welcome, *rest = lines_of(got)
            quiet = rest[0] if rest else None
            assert WELCOME_RE.match(welcome).group(2) == str(MEMBERS + 1).encode(), welcome

        # Nobody heard more than their count says: no notices past the
        # hundredth member, none for the newcomer.
        read_available(sel, data, 0.5)
        counts = []
        wrong = []
        for sock in socks:
            lines = lines_of(bytes(data[sock]))
            count = int(WELCOME_RE.match(lines[0]).group(2))
            counts.append(count)
            heard = [b"joined" if re.match(rb"^\*\*\* guest[0-9]+ joined lobby$", line) else line
                     for line in lines[1:]]
            if heard != expected_lines(count):
                wrong.append((count, len(heard), heard[:2]))

        # The stop closes everyone without a word, within the grace.
        stopping = time.monotonic()
        server.signal(signal.SIGTERM)
        status = server.wait_exit(DEADLINE)
        stopped = time.monotonic() - stopping
        figures = (f"{MEMBERS} members under {setup}: joins cost {joins_cpu:.2f}s of server CPU, "
                   f"a newcomer waited {welcomed:.2f}s for its welcome, "
                   f"the stop with --grace 1s took {stopped:.2f}s")
        assert status == 0, server.describe()
        assert welcomed < 1.0 and joins_cpu < 0.5 and stopped < 1.0, figures
        assert quiet == QUIET, quiet
        assert not wrong, f"{len(wrong)} members heard the wrong lines, e.g. {wrong[:3]}"
        assert sorted(counts) == list(range(1, MEMBERS + 1))
        for sock in socks[:20]:
            sock.setblocking(True)
            sock.settimeout(5)
            assert sock.recv(4096) == b"", "a member heard something as the server stopped"
    finally:
        sel.close()
        for sock in socks:
            sock.close()
