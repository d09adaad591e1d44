"""
-t means --threads wherever it exists (serve, bench). client and chat keep
--timeout as a long option only, and a -t given to them is refused with one
line that says to write --timeout, never taken as a timeout.
"""

import socket
import time

import pytest

from harness import run_sockserv


@pytest.mark.parametrize("command", ["serve", "bench"])
def test_serve_and_bench_help_list_t_as_threads(command):
    rc, out, _ = run_sockserv([command, "--help"])
    assert rc == 0
    lines = [l for l in out.splitlines() if l.strip().startswith("-t,")]
    assert lines and "--threads" in lines[0], out


@pytest.mark.parametrize("command", ["client", "chat"])
def test_client_and_chat_help_have_no_short_timeout(command):
    rc, out, _ = run_sockserv([command, "--help"])
    assert rc == 0
    assert "--timeout" in out
    assert not [l for l in out.splitlines() if l.strip().startswith("-t,")], out


@pytest.mark.parametrize("command", ["client", "chat"])
@pytest.mark.parametrize("args", [["-t", "1s"], ["-t1s"]])
def test_t_is_refused_pointing_at_timeout(command, args):
    rc, out, err = run_sockserv([command, *args, "tcp://127.0.0.1:9"])
    assert rc == 2, f"exit status {rc}; stderr {err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "'-t'" in lines[0] and "--timeout" in lines[0] and "--threads" in lines[0], lines[0]


@pytest.mark.parametrize("command", ["client", "chat"])
def test_long_timeout_still_bounds_the_wait(command):
    # A listener whose backlog is full cannot complete a connect: the
    # client must give up after --timeout, not the default 10 s.
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        fillers = []
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        try:
            started = time.monotonic()
            rc, _, err = run_sockserv([command, "--timeout", "300ms", f"tcp://127.0.0.1:{port}"],
                                      timeout=8)
            took = time.monotonic() - started
        finally:
            for s in fillers:
                s.close()
    assert rc == 1, f"exit status {rc}; stderr {err!r}"
    assert "300ms" in err, err
    assert took < 5, f"--timeout 300ms took {took:.2f}s"
