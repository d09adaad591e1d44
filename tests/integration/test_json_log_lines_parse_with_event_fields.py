"""
--log-format json: every line the server logs is one JSON object with
time, level, pid and msg, and connection events carry their fields: event
("connected", "closed", "stopping", "stopped"), listener, service, peer,
and on close bytes_in, bytes_out, duration_ms and reason, the byte counts
being what the client really sent and received.
"""

import json
import re
import signal

import pytest

from harness import connect, recv_exactly, run_sockserv

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def events(server):
    """Every stderr line of a server that exited, parsed; fails on one
    that is not a JSON object."""
    parsed = []
    for line in server.stderr_at_exit().splitlines():
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise AssertionError(f"not JSON ({e}): {line!r}") from None
        assert isinstance(obj, dict), line
        assert TIME.match(obj.get("time", "")), f"no RFC 3339 time: {line!r}"
        assert obj.get("level") in ("error", "warning", "info", "debug"), line
        assert isinstance(obj.get("pid"), int) and isinstance(obj.get("msg"), str), line
        parsed.append(obj)
    return parsed


def of_peer(evs, event, peer):
    return [e for e in evs if e.get("event") == event and e.get("peer") == peer]


@pytest.mark.parametrize("model", ["epoll", "thread", "fork", "uring"])
def test_connection_events_carry_fields_and_true_byte_counts(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", "tcp://127.0.0.1:0/discard", model=model,
                           options=["--log-format", "json", "-v"])
    with connect(server.addr("echo")) as c:
        echo_peer = "127.0.0.1:%d" % c.getsockname()[1]
        c.sendall(b"x" * 1000)
        assert recv_exactly(c, 1000) == b"x" * 1000
    with connect(server.addr("discard")) as d:
        discard_peer = "127.0.0.1:%d" % d.getsockname()[1]
        d.sendall(b"\"q\"\n\x00\xff\\" * 111)  # 7 bytes, 111 times
    server.wait_for_stderr(r'"event":"closed".*"peer":"%s"' % re.escape(discard_peer))
    server.wait_for_stderr(r'"event":"closed".*"peer":"%s"' % re.escape(echo_peer))
    server.signal(signal.SIGTERM)
    assert server.wait_exit(5.0) == 0, server.describe()
    evs = events(server)

    echo_port = server.addr("echo")[1]
    [connected] = of_peer(evs, "connected", echo_peer)
    assert connected["level"] == "info"
    assert connected["service"] == "echo"
    assert connected["listener"] == f"tcp://127.0.0.1:{echo_port}/echo", connected
    assert connected["msg"] == f"client connected: {echo_peer} -> echo", connected

    [closed] = of_peer(evs, "closed", echo_peer)
    assert (closed["bytes_in"], closed["bytes_out"]) == (1000, 1000), closed
    assert isinstance(closed["duration_ms"], int) and 0 <= closed["duration_ms"] < 10000, closed
    assert closed["reason"] == "done" and closed["service"] == "echo", closed
    assert closed["level"] == "debug"

    [closed] = of_peer(evs, "closed", discard_peer)
    assert (closed["bytes_in"], closed["bytes_out"]) == (777, 0), closed

    [stopping] = [e for e in evs if e.get("event") == "stopping"]
    assert stopping["open"] == 0 and stopping["grace_ms"] == 5000, stopping
    [stopped] = [e for e in evs if e.get("event") == "stopped"]
    assert (stopped["finished"], stopped["cut"]) == (0, 0), stopped


def test_quiet_json_logs_nothing_for_connections(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["--log-format", "json", "-q"])
    with connect(server.addr("echo")) as c:
        c.sendall(b"hi")
        assert recv_exactly(c, 2) == b"hi"
    server.signal(signal.SIGTERM)
    assert server.wait_exit(5.0) == 0, server.describe()
    # Warnings stay (a server started as root says so); nothing else does.
    evs = events(server)
    assert [e for e in evs if e["level"] not in ("warning", "error")] == [], evs
    assert not [e for e in evs if "event" in e], evs


def test_bad_log_format_is_a_usage_error(servers):
    rc, out, err = run_sockserv(["serve", "--log-format", "xml", "tcp://127.0.0.1:0/echo"])
    assert rc == 2, (rc, err)
    assert err.count("\n") == 1 and "--log-format" in err and "text or json" in err, err


def test_a_refusal_is_an_event_naming_reason_listener_and_counts(servers):
    server = servers.start("tcp://127.0.0.1:0/echo?deny=127.0.0.0/8",
                           options=["--log-format", "json"])
    with connect(server.addr("echo")) as c:
        try:
            got = c.recv(10)
        except ConnectionResetError:
            got = b""
        assert got == b""
    server.wait_for_stderr(r'"event":"refused"')
    server.signal(signal.SIGTERM)
    assert server.wait_exit(5.0) == 0, server.describe()
    [refused] = [e for e in events(server) if e.get("event") == "refused"]
    assert refused["level"] == "warning"
    assert refused["reason"] == "denied"
    assert refused["listener"] == server.urls[0], refused
    assert refused["peer"] == "127.0.0.1"
    assert (refused["count"], refused["total"]) == (1, 1)
