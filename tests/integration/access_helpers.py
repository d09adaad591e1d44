"""
Clients from chosen loopback sources, and what a refused one sees: the
server closes it at once (a reset, or end of stream) without a byte.
"""

import socket
import time

from harness import IO_TIMEOUT


def connect_from(addr, source, timeout=IO_TIMEOUT):
    """A TCP connection to addr from the address source (port chosen)."""
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.bind((source, 0))
        sock.connect(addr)
    except BaseException:
        sock.close()
        raise
    return sock


def served(sock, timeout=IO_TIMEOUT):
    """For an echo connection: True when a byte sent comes back, False
    when the server closed it instead (end of stream or reset)."""
    try:
        sock.sendall(b"x")
        sock.settimeout(timeout)
        data = sock.recv(16)
    except (ConnectionResetError, BrokenPipeError):
        return False
    if data == b"x":
        return True
    assert data == b"", f"a refused client got bytes: {data!r}"
    return False


def refused_without_a_byte(sock, timeout=IO_TIMEOUT):
    """True when the server closes sock at once without sending anything,
    before the client says a word (so even daytime's line never comes)."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        return True
    assert data == b"", f"a refused client got bytes: {data!r}"
    return True


def refused_at_once(addr, source, timeout=IO_TIMEOUT):
    """Connects from source and expects to be closed without a byte. The
    server's reset may come back before connect() has returned, and then
    connect() itself fails with it."""
    try:
        sock = connect_from(addr, source, timeout)
    except ConnectionResetError:
        return True
    with sock:
        return refused_without_a_byte(sock, timeout)


def try_echo_from(addr, source, timeout=IO_TIMEOUT):
    """Connects from source and tries one echo: (socket, served?). A reset
    as connect() returns is a refusal too (the socket is then closed)."""
    try:
        sock = connect_from(addr, source, timeout)
    except ConnectionResetError:
        sock = socket.socket()
        sock.close()
        return sock, False
    return sock, served(sock, timeout)


def wait_served(addr, source, timeout=IO_TIMEOUT):
    """Retries until a connection from source is served (a slot freed by a
    close is given back as the server notices the close); returns it or None."""
    deadline = time.monotonic() + timeout
    while True:
        sock, ok = try_echo_from(addr, source)
        if ok:
            return sock
        sock.close()
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)
