"""
SIGTERM and SIGINT stop the server gracefully under every model: it stops
accepting at once, lets open connections finish what they were sent (for at
most --grace), does not wait for idle clients, and exits 0 with nothing of
it left running.
"""

import signal
import time

import pytest

from harness import (MODELS, connect, connect_refused, echo_roundtrip, processes_in_group,
                     recv_for, recv_until, wait_until)


def live_processes_left(server):
    """Processes of the server's group still running (zombies excluded)."""
    return {pid: st for pid, st in processes_in_group(server.pid).items() if st != "Z"}


def assert_exits_cleanly(server, within):
    start = time.monotonic()
    rc = server.wait_exit(within)
    assert rc is not None, f"server still running {within}s after the signal\n{server.describe()}"
    assert rc == 0, f"exit status {rc}\n{server.describe()}"
    left = wait_until(lambda: not live_processes_left(server), timeout=2.0)
    assert left, f"processes of the server still running after it exited: {live_processes_left(server)}"
    return time.monotonic() - start


@pytest.mark.parametrize("model", MODELS)
def test_sigterm_refuses_new_clients_but_answers_pending_line(servers, model):
    server = servers.start("tcp://127.0.0.1:0/upper", model=model, options=["--delay", "600ms"])
    addr = server.addr("upper")
    with connect(addr) as c:
        c.sendall(b"finish me\n")
        time.sleep(0.2)
        signalled = time.monotonic()
        server.signal(signal.SIGTERM)
        # The reply is due 0.4 s from now; new clients must be refused before.
        refused = wait_until(lambda: connect_refused(addr, timeout=0.2), timeout=0.3, interval=0.02)
        refused_after = time.monotonic() - signalled
        reply = recv_until(c, b"\n", timeout=5)
        answered_after = time.monotonic() - signalled
        rest, eof = recv_for(c, 3.0)
    assert reply == b"FINISH ME\n"
    assert answered_after > 0.2, f"answered {answered_after:.3f}s after SIGTERM: before the delay"
    assert eof and rest == b"", f"after the answer: {rest!r}, EOF {eof}"
    assert refused, f"new connections still accepted {refused_after:.2f}s after SIGTERM"
    assert_exits_cleanly(server, within=5.0)


@pytest.mark.parametrize("model", MODELS)
def test_idle_client_does_not_hold_server_for_the_grace_period(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["--grace", "5s"])
    with connect(server.addr("echo")) as c:
        assert echo_roundtrip(c, b"hi") == b"hi"
        server.signal(signal.SIGTERM)
        elapsed = assert_exits_cleanly(server, within=7.0)
        rest, eof = recv_for(c, 2.0)
    assert elapsed < 2.0, f"exit took {elapsed:.2f}s with only an idle client (grace 5s)"
    assert eof and rest == b"", f"idle client got {rest!r}, EOF {eof}"


@pytest.mark.parametrize("model", MODELS)
def test_grace_period_cuts_connections_still_busy(servers, model):
    server = servers.start("tcp://127.0.0.1:0/upper", model=model,
                           options=["--delay", "10s", "--grace", "300ms"])
    with connect(server.addr("upper")) as c:
        c.sendall(b"never answered\n")
        time.sleep(0.2)
        server.signal(signal.SIGTERM)
        elapsed = assert_exits_cleanly(server, within=5.0)
        rest, eof = recv_for(c, 2.0)
    assert elapsed < 2.0, f"exit took {elapsed:.2f}s with --grace 300ms"
    assert eof, "the connection stayed open after the server exited"
    assert rest == b"", f"cut connection still got {rest!r}"


@pytest.mark.parametrize("model", MODELS)
def test_sigint_stops_idle_server(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", "tcp://127.0.0.1:0/upper", model=model)
    addrs = [server.addr("echo"), server.addr("upper")]
    server.signal(signal.SIGINT)
    elapsed = assert_exits_cleanly(server, within=5.0)
    assert elapsed < 1.5, f"idle server took {elapsed:.2f}s to stop on SIGINT"
    for addr in addrs:
        assert connect_refused(addr), f"{addr} still accepts after exit"
