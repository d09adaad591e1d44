"""
Shared helpers for the integration tests: a handle on a running sockserv
process, small socket helpers that never block without a deadline, and
readers for the /proc numbers the tests judge the server by.

Every wait in this file is bounded by a deadline, and every socket it makes
has a timeout, so a broken server makes a test fail rather than hang.
"""

import os
import queue
import re
import selectors
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import NamedTuple

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("SOCKSERV") or str(REPO_ROOT / "build" / "sockserv")

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

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

LISTENING_RE = re.compile(
    r"^listening tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[0-9.]+):(?P<port>[0-9]+)/(?P<service>[a-z0-9_-]+)$"
)

# What AddressSanitizer, LeakSanitizer, ThreadSanitizer and
# UndefinedBehaviorSanitizer print when they find a fault.
SANITIZER_REPORT_RE = re.compile(
    r"(ERROR|WARNING): (Address|Leak|Thread)Sanitizer: [^\n]*|runtime error: [^\n]*")

# Keep at most this much of a server's stderr, so a server that floods its
# log cannot exhaust the test process's memory.
STDERR_KEEP = 4 * 1024 * 1024


def ipv6_loopback_error():
    """None when ::1 can be bound here, else the reason it cannot."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError as e:
        return str(e)
    return None


class Listener(NamedTuple):
    host: str  # Without brackets: "127.0.0.1", "::1", "0.0.0.0", "::".
    port: int
    service: str

    @property
    def family(self):
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET


def expected_listening_lines(listeners):
    """One line per listener, two for "*" (one per address family)."""
    count = 0
    for spec in listeners:
        count += 2 if spec.startswith("tcp://*:") else 1
    return count


class Server:
    """A running `sockserv serve` process.

    Start it through the `servers` fixture (or a ServerPool), which waits
    for its 'listening' lines and kills it in teardown whatever the test did.
    """

    def __init__(self, listeners, options=(), expect_lines=None, preexec_fn=None):
        if not os.access(BINARY, os.X_OK):
            raise AssertionError(
                f"sockserv binary not found or not executable at {BINARY}; "
                "build it with `make` or point SOCKSERV at it")
        self.argv = [BINARY, "serve", *options, *listeners]
        self.listeners = []
        self.stdout_lines = []  # Every line printed on stdout so far.
        self.stdout_other = []  # Those that were not 'listening' lines.
        self._stderr = bytearray()
        self._stderr_cond = threading.Condition()
        self._stdout_queue = queue.Queue()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for t in self._threads:
            t.start()
        if expect_lines is None:
            expect_lines = expected_listening_lines(listeners)
        self.expect_lines = expect_lines

    # -- process output ---------------------------------------------------

    def _read_stdout(self):
        for raw in self.proc.stdout:
            self._stdout_queue.put(raw.decode("utf-8", "replace"))
        self._stdout_queue.put(None)

    def _read_stderr(self):
        fd = self.proc.stderr.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self._stderr_cond:
                if not chunk:
                    self._stderr_cond.notify_all()
                    return
                self._stderr += chunk
                if len(self._stderr) > 2 * STDERR_KEEP:
                    del self._stderr[:-STDERR_KEEP]
                self._stderr_cond.notify_all()

    @property
    def pid(self):
        return self.proc.pid

    def stderr_text(self):
        with self._stderr_cond:
            return self._stderr.decode("utf-8", "replace")

    def describe(self):
        """The command line and the tail of stderr, for failure messages."""
        tail = self.stderr_text()[-3000:]
        return f"command: {' '.join(self.argv)}\nserver stderr (tail):\n{tail}"

    def wait_listening(self, count, timeout):
        deadline = time.monotonic() + timeout
        while len(self.listeners) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"server printed {len(self.listeners)} of {count} 'listening' lines "
                    f"within {timeout}s\n{self.describe()}")
            try:
                line = self._stdout_queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                try:
                    rc = self.proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    rc = "(still running)"
                self._wait_stderr_eof(1.0)
                raise AssertionError(
                    f"server closed stdout (exit status {rc}) after "
                    f"{len(self.listeners)} of {count} 'listening' lines\n{self.describe()}")
            self._take_stdout_line(line)

    def collect_more_listening(self, settle):
        """Takes any further 'listening' lines that arrive within settle s."""
        deadline = time.monotonic() + settle
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                line = self._stdout_queue.get(timeout=remaining)
            except queue.Empty:
                return
            if line is None:
                return
            self._take_stdout_line(line)

    def _take_stdout_line(self, line):
        self.stdout_lines.append(line)
        m = LISTENING_RE.match(line.rstrip("\r\n"))
        if not m:
            self.stdout_other.append(line)
            return
        self.listeners.append(
            Listener(m.group("host").strip("[]"), int(m.group("port")), m.group("service")))

    def _wait_stderr_eof(self, timeout):
        self._threads[1].join(timeout)

    def wait_for_stderr(self, pattern, timeout=IO_TIMEOUT):
        """Waits until stderr matches the regex; returns the match."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        with self._stderr_cond:
            while True:
                m = regex.search(self._stderr.decode("utf-8", "replace"))
                if m:
                    return m
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._stderr_cond.wait(min(remaining, 0.1))
        raise AssertionError(
            f"server stderr did not match {pattern!r} within {timeout}s\n{self.describe()}")

    # -- addresses ----------------------------------------------------------

    def addr(self, service, family=socket.AF_INET):
        """(host, port) of the first listener for service in family."""
        for listener in self.listeners:
            if listener.service == service and listener.family == family:
                return (listener.host, listener.port)
        raise AssertionError(f"no {service} listener of family {family!r} in {self.listeners}")

    # -- life cycle -----------------------------------------------------------

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """The exit status, or None if it is still running after timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        """Stops the server and every process it started. Never raises."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=1.0)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        # Kill the whole process group: fork-model children live in it.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for t in self._threads:
            t.join(timeout=2)
        for pipe in (self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except OSError:
                pass


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


def _stat_fields(pid):
    """Fields after the command name in /proc/PID/stat (state is [0])."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()


def cpu_ticks(pid):
    """User plus system CPU time of a process (all its threads), in ticks."""
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12])


def _all_pids():
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def processes_in_group(pgid):
    """{pid: state} of every process in the process group."""
    found = {}
    for pid in _all_pids():
        try:
            fields = _stat_fields(pid)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if int(fields[2]) == pgid:
            found[pid] = fields[0]
    return found


def children_of(pid):
    """{child pid: state letter} of the direct children of pid."""
    found = {}
    for child in _all_pids():
        try:
            fields = _stat_fields(child)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if int(fields[1]) == pid:
            found[child] = fields[0]
    return found


def group_cpu_ticks(pgid):
    """CPU ticks used so far by every live process in the group.

    The fork model serves clients in child processes; they are in the
    server's process group, so this counts them too.
    """
    total = 0
    for pid in processes_in_group(pgid):
        try:
            total += cpu_ticks(pid)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return total


def group_rss_bytes(pgid):
    total = 0
    for pid in processes_in_group(pgid):
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_SIZE
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return total


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
