"""
Plain netcat is a full chat client: a person on nc and a program on a
socket talk both ways, with LF or CRLF line endings, and every line the
server sends ends in CRLF. Nobody hears their own words echoed back.
"""

import subprocess
import threading
import time

import pytest

from chat_helpers import CHAT_SETUPS, assert_silent, join, start_chat
from harness import IO_TIMEOUT


class Netcat:
    """`nc -N HOST PORT` with its standard output collected as it comes."""

    def __init__(self, addr):
        self.proc = subprocess.Popen(["nc", "-N", addr[0], str(addr[1])], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.output = bytearray()
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            chunk = self.proc.stdout.read1(65536)
            with self.cond:
                if not chunk:
                    self.cond.notify_all()
                    return
                self.output += chunk
                self.cond.notify_all()

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait_output(self, marker, timeout=IO_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while marker not in self.output:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"nc never printed {marker!r}; it printed {bytes(self.output)!r}")
                self.cond.wait(remaining)
            return bytes(self.output)

    def finish(self, timeout=IO_TIMEOUT):
        """Closes nc's input; returns its exit status and whole output."""
        self.proc.stdin.close()
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("nc -N did not exit after its input ended") from None
        self.reader.join(timeout)
        return rc, bytes(self.output)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_nc_and_socket_client_talk_both_ways(servers, setup):
    _, addr = start_chat(servers, setup)
    alice = join(addr)
    nc = Netcat(addr)
    try:
        nc.wait_output(b"*** welcome to sockserv chat, guest2; you are in lobby (2 here)."
                       b" /help lists commands.\r\n")
        alice.expect_next("*** guest2 joined lobby")

        # CRLF from nc: the CR is part of the ending, not of the text.
        nc.send(b"hello from nc\r\n")
        alice.expect_next("guest2: hello from nc")
        # A bare LF ends a line just as well.
        nc.send(b"/me waves\n")
        alice.expect_next("* guest2 waves")

        alice.send_line("hi nc", ending=b"\r\n")
        alice.send_line("second line")
        out = nc.wait_output(b"guest1: second line\r\n")
        assert b"guest1: hi nc\r\nguest1: second line\r\n" in out

        nc.send(b"/nick netcat\n")
        nc.wait_output(b"*** you are now netcat\r\n")
        alice.expect_next("*** guest2 is now known as netcat")

        rc, out = nc.finish()
        assert rc == 0, f"nc exit status {rc}"
        alice.expect_next("*** netcat left lobby (connection closed)")
    finally:
        nc.kill()

    # The sender never gets its own words back.
    assert b"hello from nc" not in out and b"waves" not in out, out
    # Every line nc saw ended in CRLF.
    assert out.endswith(b"\r\n") and out.count(b"\n") == out.count(b"\r\n"), out
    alice.send_line("anyone?")
    assert_silent(alice)
