"""
Helpers for the chat tests: a line-oriented chat client over a plain
socket, a way to start a chat server, and a tmux-driven terminal for the
interactive `sockserv chat` client.

Every wait is bounded by a deadline, so a broken server fails a test
instead of hanging it. Lines are bytes: the tests check what goes over the
wire byte for byte, UTF-8 included.
"""

import os
import re
import shutil
import socket
import subprocess
import time

from harness import BINARY, IO_TIMEOUT, MODELS, connect

# Iterative and fork cannot serve chat: its clients share one process.
CHAT_REFUSING_MODELS = ["iterative", "fork"]
# Every other model serves it.
CHAT_MODELS = [m for m in MODELS if m not in CHAT_REFUSING_MODELS]
# Event loops can also run several to a process (--threads), and chat then
# crosses between loops: "MODEL OPTION..." setups for start_chat.
CHAT_SETUPS = CHAT_MODELS + ["epoll --threads 3"]

WELCOME_RE = re.compile(
    rb"^\*\*\* welcome to sockserv chat, (?P<nick>[A-Za-z0-9_-]+); "
    rb"you are in (?P<room>[A-Za-z0-9_-]+) \((?P<count>[0-9]+) here\)\. /help lists commands\.$")

# Someone else arriving or leaving.
NOTICE_RE = re.compile(rb"^\*\*\* [A-Za-z0-9_-]+ (joined|left) ")


def start_chat(servers, setup, options=()):
    """Starts a chat server under setup, a model name maybe followed by
    options ("epoll --threads 3"); returns (server, (host, port))."""
    model, *setup_options = setup.split()
    server = servers.start("tcp://127.0.0.1:0/chat", model=model,
                           options=[*setup_options, *options])
    return server, server.addr("chat")


class ChatClient:
    """One chat connection that reads whole CRLF-ended lines."""

    _mark_count = 0

    def __init__(self, addr, rcvbuf=None, timeout=IO_TIMEOUT):
        if rcvbuf is None:
            self.sock = connect(addr, timeout)
        else:
            # The receive buffer must be set before connecting to bound the
            # window the server sees.
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            self.sock.connect(addr)
        self.buffer = bytearray()
        self.eof = False
        self.nick = None
        self.room = None

    # -- receiving ----------------------------------------------------------

    def _fill(self, deadline):
        """Reads once; returns False on timeout. Sets eof at end of stream."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.buffer += chunk
        return True

    def _pop_line(self):
        end = self.buffer.find(b"\n")
        if end < 0:
            return None
        raw = bytes(self.buffer[:end + 1])
        del self.buffer[:end + 1]
        assert raw.endswith(b"\r\n"), f"server line not ended by CRLF: {raw!r}"
        return raw[:-2]

    def read_line(self, timeout=IO_TIMEOUT):
        """The next line, without its CRLF; fails on timeout or EOF."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._pop_line()
            if line is not None:
                return line
            if self.eof:
                raise AssertionError(f"EOF while waiting for a line; pending {bytes(self.buffer)!r}")
            if not self._fill(deadline):
                raise AssertionError(
                    f"no line within {timeout}s; pending {bytes(self.buffer[:200])!r}")

    def expect(self, wanted, timeout=IO_TIMEOUT):
        """Reads lines until one equals wanted (bytes or str) or matches it
        (a compiled regex); returns that line (or match) and the lines
        skipped before it."""
        if isinstance(wanted, str):
            wanted = wanted.encode()
        deadline = time.monotonic() + timeout
        skipped = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{wanted!r} did not arrive within {timeout}s; got {skipped!r}")
            try:
                line = self.read_line(remaining)
            except AssertionError as e:
                raise AssertionError(f"waiting for {wanted!r} after {skipped!r}: {e}") from None
            if isinstance(wanted, bytes):
                if line == wanted:
                    return line, skipped
            else:
                m = wanted.search(line)
                if m:
                    return m, skipped
            skipped.append(line)

    def expect_next(self, wanted, timeout=IO_TIMEOUT):
        """The very next line must be wanted."""
        if isinstance(wanted, str):
            wanted = wanted.encode()
        line = self.read_line(timeout)
        assert line == wanted, f"expected {wanted!r}, got {line!r}"
        return line

    def wait_eof(self, timeout=IO_TIMEOUT):
        """Reads to end of stream; returns the lines read on the way."""
        deadline = time.monotonic() + timeout
        lines = []
        while True:
            line = self._pop_line()
            if line is not None:
                lines.append(line)
                continue
            if self.eof:
                return lines
            if not self._fill(deadline):
                raise AssertionError(f"no EOF within {timeout}s; got {lines!r}")

    # -- sending ------------------------------------------------------------

    def send_line(self, text, ending=b"\n"):
        if isinstance(text, str):
            text = text.encode()
        self.sock.sendall(text + ending)

    def send_raw(self, data):
        self.sock.sendall(data)

    def command(self, text, ending=b"\n"):
        """Sends a line and returns the next line the server sends back."""
        self.send_line(text, ending)
        return self.read_line()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def join(addr, **kwargs):
    """A client that has read its welcome line (nick and room recorded)."""
    client = ChatClient(addr, **kwargs)
    line = client.read_line()
    m = WELCOME_RE.match(line)
    assert m, f"first line is not the welcome: {line!r}"
    client.nick = m.group("nick").decode()
    client.room = m.group("room").decode()
    return client


def join_as(addr, nick, **kwargs):
    """A client that has taken nick."""
    client = join(addr, **kwargs)
    client.send_line(f"/nick {nick}")
    # Others may come and go meanwhile; anything else is a failure.
    _, skipped = client.expect(f"*** you are now {nick}")
    for line in skipped:
        assert NOTICE_RE.match(line), f"unexpected line before the /nick reply: {line!r}"
    client.nick = nick
    return client


def drain(*clients):
    """Reads every line that any of the clients sent to any of them before
    now; returns, per client, the lines read.

    Each client sends each of them (itself included) a private message
    marking the point, and each reads up to every mark addressed to it.
    The server sends every line in one order, but a client's own lines
    reach the server in no order against other clients' lines, so one mark
    could pass another sender's last line on its way in: every sender sets
    its own mark.
    """
    marks = {id(c): set() for c in clients}
    for sender in clients:
        for receiver in clients:
            ChatClient._mark_count += 1
            token = f"mark-{ChatClient._mark_count}"
            sender.send_line(f"/msg {receiver.nick} {token}")
            marks[id(receiver)].add(f"[private] {sender.nick}: {token}".encode())
    read = []
    for receiver in clients:
        waiting = marks[id(receiver)]
        lines = []
        while waiting:
            try:
                line = receiver.read_line()
            except AssertionError as e:
                raise AssertionError(f"{receiver.nick} waited for marks {waiting!r} after "
                                     f"{lines!r}: {e}") from None
            if line in waiting:
                waiting.remove(line)
            else:
                lines.append(line)
        read.append(lines)
    return read


def assert_silent(*clients):
    """Checks that none of the clients has received a line from any of
    them (list every client that could have sent one)."""
    for client, lines in zip(clients, drain(*clients)):
        assert not lines, f"{client.nick} expected nothing, got {lines!r}"


# -- tmux ----------------------------------------------------------------------


class Terminal:
    """A command running in a detached tmux pane of a fixed size.

    tmux runs on its own socket (-L) with no configuration file, so the
    user's tmux is never touched, and its server is killed on close.
    """

    _count = 0

    def __init__(self, name, command, columns=80, rows=24):
        self.tmux = shutil.which("tmux")
        if self.tmux is None:
            raise AssertionError("tmux is not installed: run scripts/ensure-deps.sh test")
        # A fresh socket each time: a server just told to exit may still
        # hold the old one.
        Terminal._count += 1
        self.socket_name = f"sockserv-{name}-{os.getpid()}-{Terminal._count}"
        env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color")
        self.env = env
        self._tmux("-f", "/dev/null", "new-session", "-d", "-x", str(columns), "-y", str(rows),
                   command)

    def _tmux(self, *args):
        proc = subprocess.run([self.tmux, "-u", "-L", self.socket_name, *args], env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        if proc.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {proc.stderr.decode()!r}")
        return proc.stdout.decode("utf-8", "replace")

    def type(self, text):
        """Sends text as typed keys, literally."""
        self._tmux("send-keys", "-l", text)

    def keys(self, *names):
        """Sends named keys: Enter, BSpace, C-u, C-d, Left, ..."""
        self._tmux("send-keys", *names)

    def resize(self, columns):
        """Makes the window columns wide; the client gets a SIGWINCH."""
        self._tmux("resize-window", "-x", str(columns))

    def screen(self):
        """The visible rows, trailing blanks removed."""
        return [row.rstrip() for row in self._tmux("capture-pane", "-p").split("\n")]

    def cursor(self):
        x, y = self._tmux("display-message", "-p", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def wait_for(self, predicate, what, timeout=IO_TIMEOUT):
        """Polls the screen until predicate(rows) is true; returns the rows."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.screen()
            if predicate(rows):
                return rows
            if time.monotonic() >= deadline:
                text = "\n".join(rows)
                raise AssertionError(f"screen never showed {what} within {timeout}s:\n{text}")
            time.sleep(0.02)

    def wait_row(self, pattern, timeout=IO_TIMEOUT):
        """Waits until some row matches the regex; returns the rows."""
        regex = re.compile(pattern)
        return self.wait_for(lambda rows: any(regex.search(r) for r in rows), repr(pattern),
                             timeout)

    def close(self):
        subprocess.run([self.tmux, "-L", self.socket_name, "kill-server"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)


def chat_command(url, *options):
    return [BINARY, "chat", *options, url]
