"""
`sockserv bench --hold` opens every connection once, makes --hold-requests
requests on each, announces one "held" line when it holds them all, keeps
them open and idle until -d ends or a signal comes, and then closes them.
bench/memory_scale.py holds its idle connections this way.
"""

import json
import os
import selectors
import signal
import socket
import subprocess

import pytest

from harness import BINARY, IO_TIMEOUT, processes_in_group, run_sockserv, wait_until
from bench.lib.procfs import socket_fd_count

HOLD_LIMIT = 30.0  # Seconds any one bench process here may live.


def start_hold(url, *args):
    return subprocess.Popen([BINARY, "bench", "--hold", "--json", *args, "-d", "20s", url],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def read_line(proc, timeout):
    """The next stdout line of proc within timeout, or fails the test."""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(timeout), f"no line from bench within {timeout}s"
    return proc.stdout.readline().decode()


def finish(proc, sig=signal.SIGINT):
    """Stops proc with sig: (exit status, the final report, stderr)."""
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=HOLD_LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("bench --hold did not end after a signal")
    return proc.returncode, out.decode(), err.decode()


def server_sockets(server):
    return sum(socket_fd_count(pid) for pid in processes_in_group(server.pid))


@pytest.mark.parametrize("model", ["epoll", "poll", "uring", "thread"])
def test_hold_announces_when_every_connection_is_open_and_holds_them(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["-q"])
    host, port = server.addr("echo")
    before = server_sockets(server)
    proc = start_hold(f"tcp://{host}:{port}", "-c", "200")
    try:
        held = json.loads(read_line(proc, IO_TIMEOUT * 2))
        assert held == {"event": "held", "held": 200, "failed": 0, "after_s": held["after_s"]}
        assert wait_until(lambda: server_sockets(server) - before >= 200, IO_TIMEOUT), \
            f"the server holds {server_sockets(server) - before} of 200"
    finally:
        rc, out, err = finish(proc)
    assert rc == 0, err
    report = json.loads(out)
    assert report["held"] == 200 and report["held_failed"] == 0
    assert report["connections_made"] == 200
    assert report["requests"] == 0 and report["requests_failed"] == 0
    assert wait_until(lambda: server_sockets(server) <= before, IO_TIMEOUT), \
        "the server still holds connections after bench closed them"


def test_hold_requests_are_made_on_each_connection_before_it_is_held(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="epoll", options=["-q"])
    host, port = server.addr("echo")
    proc = start_hold(f"tcp://{host}:{port}", "-c", "50", "--hold-requests", "3", "-s", "64")
    try:
        held = json.loads(read_line(proc, IO_TIMEOUT * 2))
        assert held["held"] == 50 and held["failed"] == 0
    finally:
        rc, out, err = finish(proc, signal.SIGTERM)
    assert rc == 0, err
    report = json.loads(out)
    assert report["requests"] == 150 and report["requests_failed"] == 0
    assert report["bytes_received"] == 150 * 64


def test_hold_ends_by_itself_after_the_duration(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="epoll", options=["-q"])
    host, port = server.addr("echo")
    rc, out, err = run_sockserv(["bench", "--hold", "-c", "20", "-d", "300ms",
                                 f"tcp://{host}:{port}"], timeout=HOLD_LIMIT)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("held         20 connections (0 failed)"), out
    assert "connections  20 made, 0 failed" in out


def local_addresses_towards(port):
    """Source addresses of this machine's established TCP sockets to port."""
    found = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            local, remote, state = line.split()[1:4]
            if int(remote.split(":")[1], 16) == port and state == "01":
                found.add(socket.inet_ntoa(bytes.fromhex(local.split(":")[0])[::-1]))
    return found


def test_source_from_spreads_connections_over_source_addresses(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="epoll", options=["-q"])
    host, port = server.addr("echo")
    proc = start_hold(f"tcp://{host}:{port}", "-c", "30", "--source-from", "127.0.3.254",
                      "--per-source", "10")
    try:
        assert json.loads(read_line(proc, IO_TIMEOUT * 2))["held"] == 30
        # .255 and .0 are skipped: 127.0.3.254, then 127.0.4.1 and .2.
        assert local_addresses_towards(port) == {"127.0.3.254", "127.0.4.1", "127.0.4.2"}
    finally:
        rc, out, err = finish(proc)
    assert rc == 0, err


def test_hold_fails_when_nobody_listens():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # Bound but not listening: connections are refused.
        rc, out, err = run_sockserv(["bench", "--hold", "--json", "-c", "20", "-d", "5s",
                                     f"tcp://127.0.0.1:{port}"], timeout=HOLD_LIMIT)
    assert rc == 1
    held = json.loads(out.splitlines()[0])
    assert held["held"] == 0 and held["failed"] == 20
    assert "held 0 of 20 connections (20 failed)" in err


@pytest.mark.parametrize("args,want", [
    (["--hold", "udp://127.0.0.1:9"], "UDP"),
    (["--hold", "-c", "4", "-t", "2", "tcp://127.0.0.1:9"], "one thread"),
    (["--hold", "--rate", "10", "tcp://127.0.0.1:9"], "--rate"),
    (["--hold", "-n", "10", "tcp://127.0.0.1:9"], "--requests"),
    (["--hold-requests", "1", "tcp://127.0.0.1:9"], "needs --hold"),
    (["--per-source", "10", "tcp://127.0.0.1:9"], "needs --source-from"),
    (["--source-from", "::1", "tcp://127.0.0.1:9"], "IPv4"),
    (["--source-from", "127.0.0.1", "tcp://[::1]:9"], "not IPv4"),
])
def test_hold_and_source_options_refuse_what_cannot_work(args, want):
    rc, out, err = run_sockserv(["bench", *args])
    assert rc == 2, f"exit {rc}; stderr {err!r}"
    assert want in err and out == ""
