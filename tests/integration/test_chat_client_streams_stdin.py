"""
`sockserv chat URL` without a terminal streams, so it can be scripted:
input lines go to the server, server lines come out on stdout (ending in
LF, and cleaned of control characters whoever the server is), and at the
end of input it half-closes, prints what is left, and exits 0.
"""

import signal
import socket
import subprocess
import threading
import time

import pytest

from chat_helpers import CHAT_MODELS, chat_command, join_as, start_chat
from harness import BINARY, IO_TIMEOUT

WELCOME2 = b"*** welcome to sockserv chat, guest2; you are in lobby (2 here). /help lists commands.\n"


def url(addr):
    return f"tcp://{addr[0]}:{addr[1]}"


def run_client(args, stdin_data, timeout=IO_TIMEOUT):
    proc = subprocess.run([BINARY, "chat", *args], input=stdin_data, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


class StreamingClient:
    """A `sockserv chat` process with pipes on both sides."""

    def __init__(self, addr, *options):
        self.proc = subprocess.Popen(chat_command(url(addr), *options), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read_line(self, timeout=IO_TIMEOUT):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        assert result, f"sockserv chat printed no line within {timeout}s"
        return result[0]

    def wait_alone(self, timeout=IO_TIMEOUT):
        """Waits for the client to exit while its input is still open."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"sockserv chat still ran after {timeout}s") from None

    def finish(self, timeout=IO_TIMEOUT):
        """Closes stdin; returns (exit status, rest of stdout, stderr, seconds to exit)."""
        started = time.monotonic()
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"sockserv chat still ran {timeout}s after its input ended") \
                from None
        return self.proc.returncode, out, err.decode("utf-8", "replace"), \
            time.monotonic() - started

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_piped_lines_are_said_and_replies_printed(servers, model):
    _, addr = start_chat(servers, model)
    ann = join_as(addr, "ann")
    rc, out, err = run_client([url(addr)], b"hello\r\n/me waves\n/who\nno newline at the end")
    assert rc == 0, (rc, err)
    assert err == "", err
    lines = out.split(b"\n")
    assert lines[0] + b"\n" == WELCOME2, out
    assert lines[1] in (b"*** 2 in lobby: ann, guest2", b"*** 2 in lobby: guest2, ann"), out
    assert lines[2:] == [b""], out
    ann.expect_next("*** guest2 joined lobby")
    ann.expect_next("guest2: hello")
    ann.expect_next("* guest2 waves")
    # The last line counts though it had no newline.
    ann.expect_next("guest2: no newline at the end")
    ann.expect_next("*** guest2 left lobby (connection closed)")


def test_conversation_through_pipes_and_clean_exit(servers):
    # A thousand lines in one burst is a flood to --chat-rate: this tests
    # the client's streaming, so the server lets it through.
    _, addr = start_chat(servers, "epoll", options=["--chat-rate", "off"])
    ann = join_as(addr, "ann")
    client = StreamingClient(addr, "--linger", "5s")
    try:
        assert client.read_line() == WELCOME2
        client.send(b"/nick scripted\n")
        assert client.read_line() == b"*** you are now scripted\n"
        ann.expect("*** guest2 is now known as scripted")
        ann.send_line("hi script", ending=b"\r\n")
        assert client.read_line() == b"ann: hi script\n"
        # A thousand lines in a burst all arrive, in order.
        client.send(b"".join(b"line %d\n" % i for i in range(1000)))
        for i in range(1000):
            ann.expect_next(f"scripted: line {i}")
        # End of input: the server sees the end and closes at once, well
        # before the 5 s linger.
        rc, out, err, seconds = client.finish()
    finally:
        client.kill()
    assert (rc, out, err) == (0, b"", ""), (rc, out, err)
    assert seconds < 3, f"took {seconds:.1f}s to exit after the input ended"
    ann.expect_next("*** scripted left lobby (connection closed)")


def test_server_closing_first_is_a_notice_and_exit_0(servers):
    server, addr = start_chat(servers, "epoll")
    client = StreamingClient(addr)
    try:
        assert client.read_line() == b"*** welcome to sockserv chat, guest1; you are in lobby " \
                                     b"(1 here). /help lists commands.\n"
        client.send(b"/quit see you\n")
        assert client.read_line() == b"*** bye\n"
        client.wait_alone()
        rc, out, err, _ = client.finish()
    finally:
        client.kill()
    assert rc == 0 and out == b"", (rc, out, err)
    assert err == f"sockserv chat: {url(addr)} closed the connection\n", err

    # The same when the server stops.
    client = StreamingClient(addr)
    try:
        client.read_line()
        server.signal(signal.SIGTERM)
        assert server.wait_exit(5) == 0
        client.wait_alone()
        rc, out, err, _ = client.finish()
    finally:
        client.kill()
    assert rc == 0 and out == b"", (rc, out, err)
    assert err == f"sockserv chat: {url(addr)} closed the connection\n", err


def test_output_reader_going_away_ends_the_client_quietly(servers):
    _, addr = start_chat(servers, "epoll")
    ann = join_as(addr, "ann")
    client = StreamingClient(addr)
    try:
        client.read_line()
        client.proc.stdout.close()
        # Lines keep coming; the client finds its reader gone (EPIPE, not a
        # SIGPIPE death) and leaves.
        deadline = time.monotonic() + IO_TIMEOUT
        while client.proc.poll() is None and time.monotonic() < deadline:
            ann.send_line("anyone there?")
            time.sleep(0.05)
        assert client.proc.poll() == 0, f"exit status {client.proc.poll()}"
    finally:
        client.kill()


# -- against stand-in servers ---------------------------------------------------


class FakeServer:
    """A one-connection TCP server that runs script(conn) in a thread."""

    def __init__(self, script):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.addr = self.listener.getsockname()
        self.errors = []
        self.thread = threading.Thread(target=self._serve, args=(script,), daemon=True)
        self.thread.start()

    def _serve(self, script):
        self.listener.settimeout(IO_TIMEOUT)
        try:
            conn, _ = self.listener.accept()
            with conn:
                script(conn)
        except Exception as e:  # Reported by close().
            self.errors.append(e)

    def close(self):
        self.thread.join(IO_TIMEOUT)
        self.listener.close()
        assert not self.errors, self.errors


def test_reset_by_server_is_exit_1():
    def script(conn):
        conn.sendall(b"*** hello\r\n")
        conn.recv(100)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    fake = FakeServer(script)
    rc, out, err = run_client([url(fake.addr)], b"say something\n")
    fake.close()
    assert rc == 1, (rc, out, err)
    assert out == b"*** hello\n", out
    assert err == f"sockserv chat: connection reset by {url(fake.addr)}\n", err


def test_server_lines_are_cleaned_before_printing():
    def script(conn):
        conn.sendall(b"\x1b]0;title\x07\x1b[2Jplain \xff \xe4\xb8\x96\r\nbare lf\nno ending")
        conn.shutdown(socket.SHUT_WR)
        conn.recv(100)

    fake = FakeServer(script)
    rc, out, err = run_client([url(fake.addr)], b"")
    fake.close()
    assert rc == 0, (rc, out, err)
    assert out == "]0;title[2Jplain \ufffd \u4e16\nbare lf\nno ending\n".encode(), out


def test_silent_server_is_left_after_linger():
    client_done = threading.Event()

    def script(conn):
        conn.sendall(b"*** still here\r\n")
        conn.settimeout(IO_TIMEOUT)
        while conn.recv(100):  # To the client's half-close...
            pass
        client_done.wait(IO_TIMEOUT)  # ...and never closing first.

    fake = FakeServer(script)
    started = time.monotonic()
    rc, out, err = run_client(["--linger", "300ms", url(fake.addr)], b"hello\n")
    seconds = time.monotonic() - started
    client_done.set()
    fake.close()
    assert (rc, out, err) == (0, b"*** still here\n", ""), (rc, out, err)
    assert 0.3 <= seconds < 3, f"exited after {seconds:.2f}s with --linger 300ms"


# -- failures -----------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_is_one_line_and_exit_1():
    target = f"tcp://127.0.0.1:{free_port()}"
    rc, out, err = run_client([target], b"")
    assert rc == 1 and out == b"", (rc, out, err)
    assert err == f"sockserv chat: cannot connect to {target}: Connection refused\n", err


@pytest.mark.parametrize("args, message", [
    ([], "missing URL"),
    (["udp://127.0.0.1:7777"], "chat runs over tcp://"),
    (["tcp://127.0.0.1:7007/echo"], "names service 'echo'"),
    (["tcp://127.0.0.1"], "bad URL"),
    (["tcp://127.0.0.1:7777", "extra"], "unexpected argument 'extra'"),
    (["--linger", "soon", "tcp://127.0.0.1:7777"], "bad --linger 'soon'"),
    (["--timeout", "0", "tcp://127.0.0.1:7777"], "bad --timeout '0'"),
    (["--bogus", "tcp://127.0.0.1:7777"], "unknown option '--bogus'"),
])
def test_bad_usage_is_one_line_and_exit_2(args, message):
    rc, out, err = run_client(args, b"")
    assert rc == 2 and out == b"", (rc, out, err)
    assert len(err.splitlines()) == 1 and err.startswith("sockserv chat: ") and message in err, err


def test_help_describes_both_modes():
    rc, out, err = run_client(["--help"], b"")
    assert rc == 0 and err == "", (rc, err)
    text = out.decode()
    assert text.startswith("usage: sockserv chat [OPTIONS] URL\n")
    for words in ("Ctrl-D", "Ctrl-U", "/quit", "--linger", "not a terminal", "Exit status"):
        assert words in text, words


def test_long_server_lines_pass_whole_and_a_flood_waits_for_the_reader():
    # A 200 KB line (longer than the client's buffers) of two-byte
    # characters, so pieces are cut between characters, never inside one.
    long_line = "\u00e9" * 100_000 + "!"
    flood_lines = 150_000
    flood_line = b"%06d " + b"f" * 120 + b"\r\n"

    def script(conn):
        conn.sendall(long_line.encode() + b"\r\n")
        for start in range(0, flood_lines, 1000):
            conn.sendall(b"".join(flood_line % i for i in range(start, start + 1000)))
        conn.shutdown(socket.SHUT_WR)
        conn.recv(100)

    fake = FakeServer(script)
    proc = subprocess.Popen(chat_command(url(fake.addr)), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Nobody reads the client's output for a while: the ~19 MB flood
        # must wait in the kernel's buffers, not in the client's memory.
        def rss_kib():
            with open(f"/proc/{proc.pid}/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

        time.sleep(0.2)
        before = rss_kib()
        time.sleep(0.5)
        grown = rss_kib() - before
        assert grown < 4096, f"the client grew by {grown} KiB while its output was not read"
        out, err = proc.communicate(b"", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    fake.close()
    assert proc.returncode == 0, (proc.returncode, err)
    lines = out.split(b"\n")
    assert lines[0] == long_line.encode(), "the long line was changed on its way"
    assert lines[1:-1] == [(flood_line % i)[:-2] for i in range(flood_lines)]
    assert lines[-1] == b""
