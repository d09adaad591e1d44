"""
A second SIGTERM or SIGINT during the grace period stops at once: every
connection is cut, the server says "stopped at once: F finished, C cut" and
exits with status 0 long before the grace would end, leaving no worker or
connection process behind. SIGHUP is a graceful stop with status 0 (it
used to kill the server with status 129), and a SIGHUP during the grace
never hurries it.
"""

import re
import signal
import time

import pytest

from harness import connect, processes_in_group, recv_all, wait_until

GRACE_S = 10

CASES = {
    "epoll": ("epoll", []),
    "thread": ("thread", []),
    "fork": ("fork", []),
    "epoll-workers": ("epoll", ["--workers", "2"]),
}


def start_with_pending_answer(servers, model, options, grace):
    """An upper server whose one client waits for an answer due long after
    the grace; returns (server, client)."""
    server = servers.start("tcp://127.0.0.1:0/upper", model=model,
                           options=["--grace", grace, "--delay", "60s", *options])
    client = connect(server.addr("upper"))
    client.sendall(b"later\n")
    server.wait_for_stderr(r"client connected: ")
    time.sleep(0.2)
    return server, client


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_second_signal_cuts_everything_and_exits_at_once(servers, case, second):
    model, options = CASES[case]
    server, client = start_with_pending_answer(servers, model, options, f"{GRACE_S}s")
    with client:
        server.signal(signal.SIGTERM)
        server.wait_for_stderr(r"stopping: 1 connection open, grace 10s")
        time.sleep(0.2)
        assert server.alive(), "the first signal did not wait for the pending answer"
        began = time.monotonic()
        server.signal(second)
        status = server.wait_exit(3.0)
        took = time.monotonic() - began
        assert status == 0, server.describe()
        assert took < GRACE_S / 2, f"exited {took:.1f}s after the second signal"
        # The client was cut: its connection ends with no answer.
        assert recv_all(client, timeout=2.0) == b""
    server.wait_for_stderr(r"stopped at once: 0 finished, 1 cut$")
    assert wait_until(lambda: not processes_in_group(server.pid), 3.0), \
        f"left behind: {processes_in_group(server.pid)}"


def test_sighup_is_a_graceful_stop_with_status_0(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", "tcp://127.0.0.1:0/upper",
                           options=["--grace", "5s", "--delay", "500ms"])
    with connect(server.addr("upper")) as c:
        c.sendall(b"finish me\n")
        server.wait_for_stderr(r"client connected: ")
        time.sleep(0.1)
        server.signal(signal.SIGHUP)
        # A second SIGHUP does not hurry the stop: the answer still comes.
        server.wait_for_stderr(r"stopping: 1 connection open, grace 5s")
        server.signal(signal.SIGHUP)
        assert recv_all(c, timeout=5.0) == b"FINISH ME\n"
    assert server.wait_exit(5.0) == 0, server.describe()
    text = server.stderr_at_exit()
    assert re.search(r"stopped: 1 finished, 0 cut at grace$", text, re.M), text
