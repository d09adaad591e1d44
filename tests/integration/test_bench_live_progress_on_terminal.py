"""
While stderr is a terminal, bench rewrites one live line every second (req/s,
p99 so far, connections up, errors) and erases it before the summary. When
stderr is not a terminal nothing is written there.
"""

import os
import pty
import subprocess

from harness import BINARY


def test_live_line_on_a_terminal(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-q"])
    host, port = server.addr("echo")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([BINARY, "bench", "-c", "3", "-d", "2500ms",
                                 f"tcp://{host}:{port}"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=follower)
        os.close(follower)
        follower = None
        out, _ = proc.communicate(timeout=10)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO once the child has closed the terminal.
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
        if follower is not None:
            os.close(follower)
    assert proc.returncode == 0
    text = seen.decode("utf-8", "replace")
    updates = text.count("req/s")
    assert updates >= 2, f"expected a live line each second, got {text!r}"
    assert "p99" in text and "3/3 connections up" in text and "errors" in text
    assert text.endswith("\r\x1b[K"), "the live line is erased before the summary"
    assert b"req/s" in out  # The summary itself went to stdout.
