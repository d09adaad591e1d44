"""
Shared helpers for the integration tests: a handle on a running sockserv
process, small socket helpers that never block without a deadline, and
readers for the /proc numbers the tests judge the server by.

Every wait in this file is bounded by a deadline, and every socket it makes
has a timeout, so a broken server makes a test fail rather than hang.
"""

import contextlib
import os
import re
import resource
import selectors
import signal
import socket
import struct
import subprocess
import threading
import sys
import time

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("SOCKSERV") or str(REPO_ROOT / "build" / "sockserv")

# The server launcher and the /proc readers are bench's (bench/lib): one of
# each for the experiments and the tests.
sys.path.insert(0, str(REPO_ROOT))
from bench.lib import servers  # noqa: E402
from bench.lib.procfs import (CLOCK_TICKS, PAGE_SIZE, children_of, cpu_ticks,  # noqa: E402,F401
                              group_cpu_ticks, group_rss_bytes, processes_in_group)
from bench.lib.servers import Listener  # noqa: E402,F401

LISTENING_RE = servers.LISTENING_TCP

# What starts every server log line before "sockserv: ": an RFC 3339
# timestamp in UTC with milliseconds, or, when stderr is the journal, a
# syslog priority ("<6>"). Anchored patterns put it after their "^".
LOG_PREFIX = r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z |<[0-7]>)"

MODELS = ["iterative", "fork", "thread", "select", "poll", "epoll", "uring"]
# Models that serve many clients at once; iterative serves one at a time.
CONCURRENT_MODELS = [m for m in MODELS if m != "iterative"]
SERVICES = ["echo", "discard", "daytime", "chargen", "time", "upper"]

LOOPBACK = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}

# How long a reply may take before a test calls it missing. Generous because
# the suite also runs against an AddressSanitizer build on two cores.
IO_TIMEOUT = 5.0
START_TIMEOUT = 10.0

# Seconds between 1900-01-01 and 1970-01-01 (RFC 868).
RFC868_EPOCH_OFFSET = 2208988800

# What AddressSanitizer, LeakSanitizer, ThreadSanitizer and
# UndefinedBehaviorSanitizer print when they find a fault.
SANITIZER_REPORT_RE = re.compile(
    r"(ERROR|WARNING): (Address|Leak|Thread)Sanitizer: [^\n]*|runtime error: [^\n]*")


def ipv6_loopback_error():
    """None when ::1 can be bound here, else the reason it cannot."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError as e:
        return str(e)
    return None


def expected_listening_lines(listeners):
    """One line per listener, two for "*" (one per address family)."""
    count = 0
    for spec in listeners:
        count += 2 if spec.startswith("tcp://*:") else 1
    return count


class Server(servers.Server):
    """A running `sockserv serve` process (bench.lib.servers.Server).

    Start it through the `servers` fixture (or a ServerPool), which waits
    for its 'listening' lines and kills it in teardown whatever the test did.
    """

    def __init__(self, listeners, options=(), expect_lines=None, preexec_fn=None):
        if not os.access(BINARY, os.X_OK):
            raise AssertionError(
                f"sockserv binary not found or not executable at {BINARY}; "
                "build it with `make` or point SOCKSERV at it")
        super().__init__([BINARY, "serve", *options, *listeners], preexec_fn=preexec_fn)
        if expect_lines is None:
            expect_lines = expected_listening_lines(listeners)
        self.expect_lines = expect_lines

    def wait_for_stderr(self, pattern, timeout=IO_TIMEOUT):
        """Waits until stderr matches the regex; returns the match."""
        return super().wait_for_stderr(pattern, timeout)

    def stderr_at_exit(self, timeout=IO_TIMEOUT):
        """All of stderr, once the server has exited and its reader has
        taken the last line (wait_exit alone may return before that)."""
        self._wait_stderr_eof(timeout)
        return self.stderr_text()


class ServerPool:
    """Starts servers and kills every one of them on close()."""

    def __init__(self):
        self.servers = []

    def start(self, *listeners, model=None, options=(), start_timeout=START_TIMEOUT, **kwargs):
        """Starts `sockserv serve [-m model] options listeners` and waits
        until it has announced every listener."""
        opts = list(options)
        if model is not None:
            opts = ["-m", model, *opts]
        server = Server(listeners, opts, **kwargs)
        # Registered before the wait, so teardown kills it even when it never
        # prints its listening lines.
        self.servers.append(server)
        if server.expect_lines:
            server.wait_listening(server.expect_lines, start_timeout)
        return server

    def close(self):
        for server in self.servers:
            server.close()
        self.servers.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run_sockserv(args, timeout=5.0):
    """Runs sockserv to completion: (exit status, stdout, stderr).

    Fails the test if it is still running after timeout, which for these
    one-shot invocations means it wrongly started serving.
    """
    proc = subprocess.Popen([BINARY, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(
            f"`sockserv {' '.join(args)}` still ran after {timeout}s "
            f"(stdout {out[:300]!r}, stderr {err[:300]!r})")
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


# -- sockets ----------------------------------------------------------------


def connect(addr, timeout=IO_TIMEOUT):
    """A connected TCP socket to (host, port) with a timeout on every call."""
    sock = socket.create_connection(addr, timeout=timeout)
    sock.settimeout(timeout)
    return sock


def recv_all(sock, timeout=IO_TIMEOUT, limit=1 << 20):
    """Reads until EOF; fails if EOF does not come within timeout."""
    deadline = time.monotonic() + timeout
    data = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(
                f"no EOF within {timeout}s; got {len(data)} bytes: {bytes(data[:200])!r}")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > limit:
            raise AssertionError(f"more than {limit} bytes before EOF: {bytes(data[:200])!r}...")


def recv_exactly(sock, n, timeout=IO_TIMEOUT):
    """Reads exactly n bytes; fails on early EOF or timeout."""
    deadline = time.monotonic() + timeout
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(
                f"got {got} of {n} bytes within {timeout}s: {bytes(buf[:min(got, 200)])!r}")
        sock.settimeout(remaining)
        try:
            k = sock.recv_into(view[got:], n - got)
        except socket.timeout:
            continue
        if k == 0:
            raise AssertionError(
                f"EOF after {got} of {n} bytes: {bytes(buf[:min(got, 200)])!r}")
        got += k
    return bytes(buf)


def recv_until(sock, marker, timeout=IO_TIMEOUT, limit=1 << 20):
    """Reads until the data received so far ends with marker."""
    deadline = time.monotonic() + timeout
    data = bytearray()
    while not data.endswith(marker):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(
                f"{marker!r} did not arrive within {timeout}s; got {bytes(data[:200])!r}")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(1)  # One byte at a time: never read past marker.
        except socket.timeout:
            continue
        if not chunk:
            raise AssertionError(f"EOF before {marker!r}; got {bytes(data[:200])!r}")
        data += chunk
        if len(data) > limit:
            raise AssertionError(f"no {marker!r} in the first {limit} bytes")
    return bytes(data)


def recv_for(sock, seconds):
    """Whatever arrives within seconds: (data, saw_eof). Resets count as EOF."""
    deadline = time.monotonic() + seconds
    data = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(data), False
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return bytes(data), True
        if not chunk:
            return bytes(data), True
        data += chunk


def echo_roundtrip(sock, payload, timeout=IO_TIMEOUT):
    sock.sendall(payload)
    return recv_exactly(sock, len(payload), timeout)


def close_with_reset(sock):
    """Closes with SO_LINGER 0, so the peer sees a TCP reset, not a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def stream_through(sock, data, timeout=60.0):
    """Sends data and shuts down writing while reading everything back.

    Sending and receiving run at once (the sender in a thread); an echo
    server with bounded buffers would otherwise deadlock both sides.
    Returns what came back before EOF.
    """
    errors = []

    def send():
        try:
            sock.sendall(memoryview(data))
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            errors.append(e)

    deadline = time.monotonic() + timeout
    received = bytearray(len(data) + 65536)
    view = memoryview(received)
    got = 0
    sender = threading.Thread(target=send, daemon=True)
    # Both threads share the socket's timeout; sendall counts it over the
    # whole send, so it must cover the whole stream.
    sock.settimeout(timeout)
    sender.start()
    try:
        while True:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"stream of {len(data)} bytes: only {got} came back within {timeout}s")
            if got == len(received):
                raise AssertionError(f"more bytes came back than the {len(data)} sent")
            try:
                k = sock.recv_into(view[got:], min(len(received) - got, 1 << 20))
            except socket.timeout:
                continue
            if k == 0:
                break
            got += k
    finally:
        sender.join(timeout=max(0.1, deadline - time.monotonic()))
    if errors:
        raise AssertionError(f"sending failed after the server's EOF or reset: {errors[0]!r}")
    return bytes(view[:got])


def first_difference(a, b):
    """Offset of the first differing byte, or None if a == b."""
    if a == b:
        return None
    n = min(len(a), len(b))
    lo = 0
    step = 1 << 16
    while lo < n and a[lo:lo + step] == b[lo:lo + step]:
        lo += step
    for i in range(lo, min(lo + step, n)):
        if a[i] != b[i]:
            return i
    return n


def open_nonblocking_connections(addr, count, timeout):
    """Starts count connects at once; returns the sockets after they settle.

    Some may never complete when the server's backlog is full; that is
    fine for the callers, which only need the server to be under pressure.
    """
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    socks = []
    sel = selectors.DefaultSelector()
    try:
        for _ in range(count):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(addr)
            socks.append(s)
            sel.register(s, selectors.EVENT_WRITE)
        pending = len(socks)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                sel.unregister(key.fileobj)
                pending -= 1
    finally:
        sel.close()
    return socks


# -- chargen ------------------------------------------------------------------

CHARGEN_LINE = 72
CHARGEN_PRINTABLE = bytes(range(0x20, 0x7F))  # 95 characters.


def chargen_stream(nbytes):
    """The first nbytes a chargen server sends (RFC 864)."""
    period = bytearray()
    for i in range(len(CHARGEN_PRINTABLE)):
        for k in range(CHARGEN_LINE):
            period.append(CHARGEN_PRINTABLE[(i + k) % len(CHARGEN_PRINTABLE)])
        period += b"\r\n"
    reps = nbytes // len(period) + 1
    return bytes(period * reps)[:nbytes]


# -- /proc ----------------------------------------------------------------------


def wait_until(predicate, timeout, interval=0.05):
    """Polls predicate until it is true or timeout passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def connect_refused(addr, timeout=1.0):
    """True if a connect to addr is refused (nothing listens any more)."""
    try:
        s = socket.create_connection(addr, timeout=timeout)
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    s.close()
    return False


@contextlib.contextmanager
def descriptor_room(need):
    """Raises this process's soft descriptor limit to need for the duration
    (a test that holds many sockets itself); skips, saying why, when the
    hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        yield
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"the test process may open only {hard} descriptors; it needs {need}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
