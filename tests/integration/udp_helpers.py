"""
Helpers for the UDP integration tests: starting sockserv on udp://
listeners (the harness reads only tcp:// announcements), datagram sockets
that always carry a timeout, and bounded ways to collect replies.

Every wait here has a deadline, so a server that never answers makes a test
fail rather than hang.
"""

import re
import select
import socket
import time

from harness import CHARGEN_PRINTABLE, IO_TIMEOUT, START_TIMEOUT, chargen_stream

UDP_LISTENING_RE = re.compile(
    r"^listening udp://(?P<host>\[[0-9A-Fa-f:.]+\]|[0-9.]+):(?P<port>[0-9]+)"
    r"/(?P<service>[a-z0-9_-]+)$")

# Large enough that a client socket never drops the replies to a flood
# before the test reads them (the kernel caps it at net.core.rmem_max).
CLIENT_RCVBUF = 4 * 1024 * 1024

CHARGEN_UDP_MAX = 512  # RFC 864: a UDP reply holds 0 to 512 characters.


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def udp_listeners(server):
    """[(host, port, service)] of every 'listening udp://' line so far."""
    found = []
    for line in server.stdout_lines:
        m = UDP_LISTENING_RE.match(line.rstrip("\r\n"))
        if m:
            found.append((m.group("host").strip("[]"), int(m.group("port")), m.group("service")))
    return found


def wait_udp_listening(server, count, timeout=START_TIMEOUT):
    """Waits until the server has announced count UDP listeners."""
    deadline = time.monotonic() + timeout
    while len(udp_listeners(server)) < count:
        if time.monotonic() >= deadline or not server.alive():
            raise AssertionError(
                f"{len(udp_listeners(server))} of {count} UDP listeners announced "
                f"within {timeout}s; stdout {server.stdout_lines!r}\n{server.describe()}")
        server.collect_more_listening(0.05)


def start_udp(pool, *listeners, model=None, options=(), expect=None):
    """Starts `sockserv serve` through a ServerPool (so teardown kills it)
    and waits for its UDP announcements: one per udp:// listener."""
    server = pool.start(*listeners, model=model, options=options, expect_lines=0)
    if expect is None:
        expect = sum(1 for spec in listeners if spec.startswith("udp://"))
    wait_udp_listening(server, expect)
    return server


def udp_addr(server, service, family=socket.AF_INET):
    """(host, port) of the first UDP listener for service in family."""
    for host, port, svc in udp_listeners(server):
        if svc == service and family_of(host) == family:
            return (host, port)
    raise AssertionError(f"no UDP {service} listener of family {family!r} in "
                         f"{udp_listeners(server)}")


def udp_socket(family=socket.AF_INET, bind=None, timeout=IO_TIMEOUT, rcvbuf=None):
    """A datagram socket with a timeout; bound to bind when given. A fixed
    port is bound with SO_REUSEADDR so a test can reuse it at once."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if bind is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(bind)
    except BaseException:
        sock.close()
        raise
    return sock


def recv_datagram(sock, timeout=IO_TIMEOUT, what="a reply"):
    """The next datagram; fails if none arrives within timeout."""
    sock.settimeout(timeout)
    try:
        data, _ = sock.recvfrom(65536)
    except socket.timeout:
        raise AssertionError(f"{what} did not arrive within {timeout}s") from None
    return data


def request(sock, addr, payload, timeout=IO_TIMEOUT):
    """Sends one datagram to addr and returns the reply."""
    sock.sendto(payload, addr)
    return recv_datagram(sock, timeout, f"a reply to {payload[:40]!r} from {addr}")


def datagrams_within(sock, seconds, limit=100000):
    """Every datagram that arrives within seconds (a full window)."""
    deadline = time.monotonic() + seconds
    got = []
    while len(got) < limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            got.append(sock.recvfrom(65536)[0])
        except socket.timeout:
            break
    return got


def drain(sock, quiet, limit=100000, max_seconds=30.0):
    """Datagrams until none has arrived for quiet seconds; (list, time of
    the last one or None). Bounded by max_seconds and limit."""
    deadline = time.monotonic() + max_seconds
    got = []
    last = None
    while len(got) < limit and time.monotonic() < deadline:
        sock.settimeout(quiet)
        try:
            got.append(sock.recvfrom(65536)[0])
        except socket.timeout:
            break
        last = time.monotonic()
    return got, last


def collect_replies(socks, count, timeout):
    """Waits for one datagram on each of socks (count of them in all);
    returns {sock: (reply, monotonic time)} of those that answered."""
    deadline = time.monotonic() + timeout
    pending = set(socks)
    replies = {}
    while pending and len(replies) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        readable, _, _ = select.select(list(pending), [], [], remaining)
        now = time.monotonic()
        for s in readable:
            s.settimeout(0)
            try:
                data = s.recvfrom(65536)[0]
            except (BlockingIOError, socket.timeout):
                continue
            replies[s] = (data, now)
            pending.discard(s)
    return replies


def assert_chargen_pattern(reply):
    """reply is the start of the RFC 864 stream: line i starts at offset
    i mod 95 of the printable characters, 72 of them then CRLF."""
    expected = chargen_stream(len(reply))
    if reply != expected:
        at = next(i for i in range(len(reply)) if reply[i] != expected[i])
        raise AssertionError(
            f"chargen reply of {len(reply)} bytes departs from RFC 864 at byte {at}: "
            f"{reply[max(0, at - 10):at + 10]!r}, expected {expected[max(0, at - 10):at + 10]!r}")
    for i, line in enumerate(reply.split(b"\r\n")):
        assert len(line) <= 72, f"line {i} is {len(line)} characters long"
        assert set(line) <= set(CHARGEN_PRINTABLE), f"line {i} has unprintable bytes: {line!r}"
