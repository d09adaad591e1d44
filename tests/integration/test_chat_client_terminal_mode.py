"""
`sockserv chat URL` on a terminal (driven through tmux): a prompt with its
own line editor, where lines from others appear above the line being typed
without disturbing it, UTF-8 is typed and deleted a whole character at a
time, and the terminal always gets its settings back, whichever way the
client ends.
"""

import os
import re
import signal
import time

import pytest

from chat_helpers import Terminal, join_as, start_chat
from harness import BINARY, IO_TIMEOUT

COLUMNS = 80


@pytest.fixture
def terminal(tmp_path, request):
    """Starts `sockserv chat` in a tmux pane (via terminal.start(url));
    the shell around it records the terminal settings before and after,
    the client's pid, and its exit status."""

    class Session:
        def __init__(self):
            self.term = None
            self.before = tmp_path / "stty-before"
            self.after = tmp_path / "stty-after"
            self.pid_file = tmp_path / "pid"

        def start(self, url, columns=COLUMNS):
            script = tmp_path / "run.sh"
            script.write_text(
                f"stty -g > {self.before}\n"
                f"sh -c 'echo $$ > {self.pid_file}; exec {BINARY} chat {url}'\n"
                "echo \"exit=$?\"\n"
                f"stty -g > {self.after}\n"
                "sleep 60\n")
            self.term = Terminal(request.node.name.replace("[", "-").strip("]"),
                                 f"sh {script}", columns=columns)
            return self.term

        def pid(self):
            deadline = time.monotonic() + IO_TIMEOUT
            while time.monotonic() < deadline:
                text = self.pid_file.read_text() if self.pid_file.exists() else ""
                if text.strip():
                    return int(text)
                time.sleep(0.02)
            raise AssertionError("the client never started")

        def wait_exit_status(self):
            rows = self.term.wait_row(r"^exit=\d+$")
            status = int(next(r for r in rows if r.startswith("exit="))[5:])
            deadline = time.monotonic() + IO_TIMEOUT
            while not (self.after.exists() and self.after.read_text()):
                assert time.monotonic() < deadline, "no terminal settings after the exit"
                time.sleep(0.02)
            return status

        def assert_restored(self):
            assert self.after.read_text() == self.before.read_text(), \
                "the terminal's settings were not restored"

    session = Session()
    yield session
    if session.term is not None:
        session.term.close()


def url_of(addr):
    return f"tcp://{addr[0]}:{addr[1]}"


def prompt_row(rows):
    """The last row that starts with the prompt."""
    for row in reversed(rows):
        if row.startswith(">"):
            return row
    return None


def wait_prompt(term, text):
    """Waits until the last prompt row reads '> ' + text (trailing blanks
    trimmed) and is the row the cursor is on."""
    wanted = ("> " + text).rstrip()

    def ready(rows):
        row = prompt_row(rows)
        if row != wanted:
            return False
        _, y = term.cursor()
        return rows[y] == wanted

    return term.wait_for(ready, f"the prompt {wanted!r}")


def test_typing_survives_incoming_lines_and_sends_utf8(servers, terminal):
    _, addr = start_chat(servers, "epoll")
    ann = join_as(addr, "ann")
    term = terminal.start(url_of(addr))
    term.wait_row(r"^\*\*\* welcome to sockserv chat, guest2; you are in lobby \(2 here\)")
    wait_prompt(term, "")
    ann.expect("*** guest2 joined lobby")

    # Half a line typed when a message arrives: the message goes above,
    # the typed text stays as it was, and the cursor stays at its end.
    term.type("h\u00e9llo w\u00f6rld \u4e16\u754c")
    wait_prompt(term, "h\u00e9llo w\u00f6rld \u4e16\u754c")
    ann.send_line("ann: a message while you type")
    rows = term.wait_row(r"^ann: ann: a message while you type$")
    rows = wait_prompt(term, "h\u00e9llo w\u00f6rld \u4e16\u754c")
    message_row = rows.index("ann: ann: a message while you type")
    assert rows.index(prompt_row(rows)) == message_row + 1, rows
    x, _ = term.cursor()
    assert x == len("> h\u00e9llo w\u00f6rld ") + 4, f"cursor at column {x}"  # Two wide characters.

    # Backspace deletes whole characters, wide ones included; Enter sends
    # the line, which stays on screen as typed.
    term.keys("BSpace", "BSpace")
    wait_prompt(term, "h\u00e9llo w\u00f6rld")
    term.type("\U0001F389")
    term.keys("Enter")
    ann.expect_next("guest2: h\u00e9llo w\u00f6rld \U0001F389")
    rows = wait_prompt(term, "")
    assert "> h\u00e9llo w\u00f6rld \U0001F389" in rows, rows

    # Ctrl-U clears the line; arrow keys and other escape sequences are
    # swallowed, not typed; control keys type nothing.
    term.type("discard me")
    wait_prompt(term, "discard me")
    term.keys("C-u")
    wait_prompt(term, "")
    term.type("a")
    term.keys("Left", "Up", "F5", "C-g", "C-d")
    term.type("b")
    wait_prompt(term, "ab")
    term.keys("Enter")
    ann.expect_next("guest2: ab")

    # /quit goes to the server, which says goodbye and closes.
    term.type("/quit bye all")
    term.keys("Enter")
    term.wait_row(r"^\*\*\* bye$")
    ann.expect_next("*** guest2 left lobby (quit: bye all)")
    assert terminal.wait_exit_status() == 0
    terminal.assert_restored()
    rows = term.screen()
    assert not any("closed the connection" in r for r in rows), rows


def test_long_line_scrolls_sideways_and_resize_is_harmless(servers, terminal):
    _, addr = start_chat(servers, "epoll")
    ann = join_as(addr, "ann")
    term = terminal.start(url_of(addr))
    wait_prompt(term, "")
    ann.expect("*** guest2 joined lobby")

    # Wider than the terminal: the prompt row shows the end of the line,
    # on one row, leaving the last column free.
    long_line = "".join(f"{i:03d}-" for i in range(40))  # 160 characters.
    term.type(long_line)
    visible = long_line[-(COLUMNS - 3):]
    rows = wait_prompt(term, visible)
    assert len(prompt_row(rows)) == COLUMNS - 1
    ann.send_line("interrupting")
    term.wait_row(r"^ann: interrupting$")
    rows = wait_prompt(term, visible)
    assert rows.count(prompt_row(rows)) == 1, rows

    # A narrower window: the next redraw fits the new width.
    term.resize(40)
    ann.send_line("after the resize")
    term.wait_row(r"^ann: after the resize$")
    wait_prompt(term, long_line[-(40 - 3):])
    term.keys("Enter")
    ann.expect_next(f"guest2: {long_line}")

    # Ctrl-C on a non-empty line clears it; on an empty line it leaves.
    term.type("never sent")
    wait_prompt(term, "never sent")
    term.keys("C-c")
    wait_prompt(term, "")
    term.keys("C-c")
    assert terminal.wait_exit_status() == 0
    terminal.assert_restored()
    ann.expect_next("*** guest2 left lobby (connection closed)")
    # The prompt was cleared before the shell took over again.
    assert not any(r.startswith(">") for r in term.screen()[-5:] if "exit=" not in r)


def test_ctrl_d_on_empty_line_leaves_and_restores(servers, terminal):
    _, addr = start_chat(servers, "thread")
    ann = join_as(addr, "ann")
    term = terminal.start(url_of(addr))
    wait_prompt(term, "")
    ann.expect("*** guest2 joined lobby")
    term.type("x")
    wait_prompt(term, "x")
    term.keys("C-d")  # Not on an empty line: nothing happens.
    term.keys("BSpace", "C-d")
    assert terminal.wait_exit_status() == 0
    terminal.assert_restored()
    ann.expect_next("*** guest2 left lobby (connection closed)")


def test_sigterm_and_server_stop_restore_the_terminal(servers, terminal):
    server, addr = start_chat(servers, "epoll")
    term = terminal.start(url_of(addr))
    wait_prompt(term, "")
    term.type("half typed")
    wait_prompt(term, "half typed")
    os.kill(terminal.pid(), signal.SIGTERM)
    assert terminal.wait_exit_status() == 128 + signal.SIGTERM
    terminal.assert_restored()
    term.close()

    # The server going away: a notice after the terminal is back, exit 0.
    term = terminal.start(url_of(addr))
    wait_prompt(term, "")
    server.signal(signal.SIGTERM)
    assert terminal.wait_exit_status() == 0
    terminal.assert_restored()
    rows = term.wait_row(re.escape(f"sockserv chat: {url_of(addr)} closed the connection"))
    assert not any(r.startswith(">") for r in rows), rows
