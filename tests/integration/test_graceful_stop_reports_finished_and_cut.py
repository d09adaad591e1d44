"""
A graceful stop says what it found and what became of it: "stopping: N
connections open, grace 1s" as it begins, and "stopped: F finished, C cut
at grace" at the end, for the whole server under every model, with
--threads and with --workers (the supervisor reports the sum of its
workers). Idle echo clients finish at once; an upper client whose answer
is due after the grace is cut.
"""

import re
import signal
import time

import pytest

from harness import connect, wait_until

CASES = {
    "epoll": ("epoll", []),
    "uring": ("uring", []),
    "thread": ("thread", []),
    "fork": ("fork", []),
    "epoll-threads": ("epoll", ["--threads", "2"]),
    "epoll-workers": ("epoll", ["--workers", "2"]),
    "fork-workers": ("fork", ["--workers", "2"]),
}


def connected_count(server):
    return len(re.findall(r"client connected: ", server.stderr_text()))


@pytest.mark.parametrize("case", CASES)
def test_stop_logs_open_then_finished_and_cut(servers, case):
    model, options = CASES[case]
    server = servers.start("tcp://127.0.0.1:0/echo", "tcp://127.0.0.1:0/upper", model=model,
                           options=["--grace", "1s", "--delay", "30s", *options])
    idle = [connect(server.addr("echo")) for _ in range(2)]
    waiting = connect(server.addr("upper"))
    try:
        waiting.sendall(b"answer me after the grace\n")
        assert wait_until(lambda: connected_count(server) == 3, 5.0), server.describe()
        time.sleep(0.2)  # Let the upper line be read: its answer is now pending.
        began = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.wait_exit(6.0) == 0, server.describe()
        took = time.monotonic() - began
    finally:
        for sock in idle + [waiting]:
            sock.close()
    text = server.stderr_at_exit()
    assert re.search(r"sockserv: stopping: 3 connections open, grace 1s$", text, re.M), text
    assert re.search(r"sockserv: stopped: 2 finished, 1 cut at grace$", text, re.M), text
    assert len(re.findall(r"sockserv: stopp(ing|ed): ", text)) == 2, f"said more than once:\n{text}"
    assert 0.8 <= took, f"stopped after {took:.2f}s, before the 1s grace"


def test_iterative_reports_the_one_client_it_serves(servers):
    server = servers.start("tcp://127.0.0.1:0/upper", model="iterative",
                           options=["--grace", "1s", "--delay", "30s"])
    with connect(server.addr("upper")) as c:
        c.sendall(b"slow\n")
        server.wait_for_stderr(r"client connected: ")
        time.sleep(0.2)
        server.signal(signal.SIGTERM)
        assert server.wait_exit(6.0) == 0, server.describe()
    text = server.stderr_at_exit()
    assert re.search(r"stopping: 1 connection open, grace 1s$", text, re.M), text
    assert re.search(r"stopped: 0 finished, 1 cut at grace$", text, re.M), text


def test_a_stop_with_nothing_open_says_so(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["--grace", "250ms"])
    server.signal(signal.SIGINT)
    assert server.wait_exit(5.0) == 0, server.describe()
    text = server.stderr_at_exit()
    assert re.search(r"stopping: 0 connections open, grace 250ms$", text, re.M), text
    assert re.search(r"stopped: 0 finished, 0 cut at grace$", text, re.M), text
