"""A server process seen from a test or an experiment.

Server starts a command in a session (process group) of its own, so that it
and every process it starts (fork-model children, workers) die together. Two
threads keep its output pipes empty: stdout is kept line by line (sockserv
announces each listener there: "listening tcp://127.0.0.1:PORT/echo"), and
the tail of stderr is kept, bounded, for failure reports. A server that is
not sockserv (a rival echo server) is judged started when its port accepts
a connection, and its two streams are kept together.

Every wait is bounded; close() never raises. Processes still running when the
interpreter exits are killed with their groups.
"""

import atexit
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]

# A TCP listener as sockserv announces it; tests address listeners by these.
LISTENING_TCP = re.compile(
    r"^listening tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[0-9.]+):(?P<port>[0-9]+)/(?P<service>[a-z0-9_-]+)$"
)
# Any announcement, TCP or UDP: the URL a load generator is pointed at.
LISTENING_ANY = re.compile(r"^listening ((tcp|udp)://\S+)$")

# Keep at most this much of a server's stderr, so a server that floods its
# log cannot exhaust the caller's memory.
STDERR_KEEP = 4 * 1024 * 1024


class Listener(NamedTuple):
    host: str  # Without brackets: "127.0.0.1", "::1", "0.0.0.0", "::".
    port: int
    service: str

    @property
    def family(self):
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET


# -- Processes left behind ----------------------------------------------------------

_live_groups = set()


def _kill_live_groups():
    for pgid in list(_live_groups):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _live_groups.clear()


atexit.register(_kill_live_groups)


def track_group(pgid):
    """pgid's whole group is killed at exit unless forget_group(pgid) came first."""
    _live_groups.add(pgid)


def forget_group(pgid):
    _live_groups.discard(pgid)


def _raise_interrupt(signo, frame):
    raise KeyboardInterrupt


def stop_on_sigterm():
    """SIGTERM ends a script like Ctrl-C: servers and load processes are
    killed on the way out (atexit and the with-blocks), never left behind."""
    signal.signal(signal.SIGTERM, _raise_interrupt)


# -- The binary -------------------------------------------------------------------

_private_dir = None


def sockserv_source():
    """The sockserv an experiment measures: SOCKSERV, else build/sockserv."""
    return os.environ.get("SOCKSERV") or str(REPO / "build" / "sockserv")


def sockserv_binary():
    """A private copy of sockserv_source(), so that a rebuild by someone else
    during a run cannot swap the binary under it."""
    global _private_dir
    source = sockserv_source()
    if not os.access(source, os.X_OK):
        sys.exit(f"{source} is not built (run make, or set SOCKSERV)")
    if _private_dir is None:
        _private_dir = tempfile.mkdtemp(prefix="sockserv-bench-")
        atexit.register(shutil.rmtree, _private_dir, True)
    copy = os.path.join(_private_dir, "sockserv")
    if not os.path.exists(copy):
        shutil.copy2(source, copy)
    return copy


# -- Ports ------------------------------------------------------------------------


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(host, port, deadline, proc=None):
    """True once (host, port) accepts a connection before deadline (monotonic);
    False at the deadline or as soon as proc has exited."""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


# -- The server --------------------------------------------------------------------


class Server:
    """A running server process; see the module's docstring.

    merge_output: keep stdout and stderr together (a server that is not
    sockserv prints what it likes on either); announcements are then not read.
    """

    def __init__(self, argv, preexec_fn=None, merge_output=False):
        self.argv = list(argv)
        self.listeners = []     # TCP listeners announced so far.
        self.urls = []          # Every announced URL, TCP or UDP.
        self.stdout_lines = []  # Every line printed on stdout so far.
        self.stdout_other = []  # Those that were not TCP 'listening' lines.
        self._stderr = bytearray()
        self._stderr_cond = threading.Condition()
        self._stdout_queue = queue.Queue()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_output else subprocess.PIPE,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
        track_group(self.proc.pid)
        if merge_output:
            self._threads = [threading.Thread(target=self._read_stderr,
                                              args=(self.proc.stdout,), daemon=True)]
        else:
            self._threads = [
                threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True),
                threading.Thread(target=self._read_stdout, daemon=True),
            ]
        for t in self._threads:
            t.start()

    # -- process output ---------------------------------------------------

    def _read_stdout(self):
        for raw in self.proc.stdout:
            self._stdout_queue.put(raw.decode("utf-8", "replace"))
        self._stdout_queue.put(None)

    def _read_stderr(self, stream):
        fd = stream.fileno()
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
        """The server's own pid (taskset execs the server, so it is the same)."""
        return self.proc.pid

    def stderr_text(self):
        with self._stderr_cond:
            return self._stderr.decode("utf-8", "replace")

    def last_stderr_line(self):
        lines = self.stderr_text().strip().splitlines()
        return lines[-1] if lines else ""

    def describe(self):
        """The command line and the tail of stderr, for failure messages."""
        tail = self.stderr_text()[-3000:]
        return f"command: {' '.join(self.argv)}\nserver stderr (tail):\n{tail}"

    def wait_listening(self, count, timeout):
        """Waits for count TCP 'listening' lines; raises AssertionError if
        they do not come within timeout or the server closes stdout."""
        self._wait_announced(lambda: len(self.listeners) >= count, f"{count} 'listening' lines",
                             timeout)

    def wait_announced(self, timeout):
        """Waits for the first 'listening' line, TCP or UDP; returns its URL."""
        self._wait_announced(lambda: self.urls, "a 'listening' line", timeout)
        return self.urls[0]

    def _wait_announced(self, done, what, timeout):
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"server printed {len(self.listeners)} 'listening' lines, not {what}, "
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
                    f"{len(self.listeners)} 'listening' lines, not {what}\n{self.describe()}")
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
        text = line.rstrip("\r\n")
        any_match = LISTENING_ANY.match(text)
        if any_match:
            self.urls.append(any_match.group(1))
        m = LISTENING_TCP.match(text)
        if not m:
            self.stdout_other.append(line)
            return
        self.listeners.append(
            Listener(m.group("host").strip("[]"), int(m.group("port")), m.group("service")))

    def _wait_stderr_eof(self, timeout):
        self._threads[0].join(timeout)

    def wait_for_stderr(self, pattern, timeout):
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
        """(host, port) of the first TCP listener for service in family."""
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

    def close(self, term_first=True):
        """Stops the server and every process it started. Never raises.
        term_first: SIGTERM and a second's grace before SIGKILL (a test
        wants a clean stop; an experiment kills at once)."""
        if term_first and self.proc.poll() is None:
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
        forget_group(self.proc.pid)
        for t in self._threads:
            t.join(timeout=2)
        for pipe in (self.proc.stdout, self.proc.stderr):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


class MeasuredServer(Server):
    """A server an experiment measures: started on the server cores, judged
    started by its first announcement (sockserv) or by port accepting a
    connection (anything else), and killed at once when the block ends.

    url and port say where it listens; close() returns the last line of
    stderr, for the report. RuntimeError when it does not start.
    """

    def __init__(self, argv, plan, port=None, start_timeout=15.0):
        super().__init__(plan.on_server_cores(argv), merge_output=port is not None)
        self.url, self.port = None, port
        try:
            if port is None:
                self.url = self.wait_announced(start_timeout)
                self.port = int(self.url.split("//")[1].split("/")[0].rsplit(":", 1)[1])
            elif wait_for_port("127.0.0.1", port, time.monotonic() + start_timeout, self.proc):
                self.url = f"tcp://127.0.0.1:{port}"
            else:
                raise AssertionError("port never accepted a connection")
        except AssertionError:
            status = self.proc.poll()
            reason = self.close()
            raise RuntimeError(reason or f"server exited with {status}") from None

    def close(self, term_first=False):
        super().close(term_first)
        return self.last_stderr_line()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
