"""
Bad command lines and unusable listeners end the program at once with one
clear line on stderr: exit status 2 for what the user typed wrong, 1 for
what the system refused. Never a crash, never a silent exit, never a
listener announced.
"""

import socket

import pytest

from harness import run_sockserv, wait_until

USAGE_ERRORS = [
    pytest.param(["tcp://127.0.0.1:0/nope"], ["nope", "service"], id="unknown-service"),
    pytest.param(["-m", "bogus", "tcp://127.0.0.1:0/echo"], ["bogus", "model"], id="unknown-model"),
    pytest.param(["--model", "bogus", "tcp://127.0.0.1:0/echo"], ["bogus", "model"],
                 id="unknown-model-long-option"),
    pytest.param(["tcp:/x"], ["tcp:/x", "listener"], id="listener-without-slashes"),
    pytest.param(["tcp://127.0.0.1/echo"], ["tcp://127.0.0.1/echo", "port", "listener"],
                 id="listener-without-port"),
    pytest.param(["tcp://127.0.0.1:99999/echo"], ["99999", "port", "listener"],
                 id="listener-port-out-of-range"),
    pytest.param(["tcp://127.0.0.1:0"], ["tcp://127.0.0.1:0", "service", "listener"],
                 id="listener-without-service"),
    pytest.param(["gopher://127.0.0.1:0/echo"], ["gopher", "listener", "scheme"],
                 id="listener-unknown-scheme"),
    pytest.param(["--frobnicate", "tcp://127.0.0.1:0/echo"], ["frobnicate", "option"],
                 id="unknown-option"),
    pytest.param(["--delay", "5parsecs", "tcp://127.0.0.1:0/upper"], ["delay", "duration", "5parsecs"],
                 id="bad-delay-duration"),
    pytest.param(["--grace", "-1s", "tcp://127.0.0.1:0/echo"], ["grace", "duration", "-1s"],
                 id="negative-grace-duration"),
    pytest.param(["--max-conns", "lots", "tcp://127.0.0.1:0/echo"], ["max-conns", "lots"],
                 id="max-conns-not-a-number"),
    pytest.param(["tcp://127.0.0.1:0/echo", "--delay"], ["delay", "argument", "requires"],
                 id="option-missing-its-value"),
]


def assert_reports_one_problem(rc, out, err, expected_rc, mentions):
    assert rc == expected_rc, f"exit status {rc}, expected {expected_rc}; stderr {err!r}"
    lines = err.strip().splitlines()
    assert lines, "exited without a word on stderr"
    first = lines[0].lower()
    assert any(m.lower() in first for m in mentions), (
        f"first stderr line {lines[0]!r} mentions none of {mentions}")
    # One line for the problem, at most one more (a usage hint).
    assert len(lines) <= 2, f"{len(lines)} lines on stderr for one problem:\n{err}"
    assert "listening" not in out, f"announced a listener anyway: {out!r}"


@pytest.mark.parametrize("args, mentions", USAGE_ERRORS)
def test_usage_error_exits_2_with_one_line(args, mentions):
    rc, out, err = run_sockserv(["serve", *args])
    assert_reports_one_problem(rc, out, err, 2, mentions)


def test_unknown_subcommand_exits_2():
    rc, out, err = run_sockserv(["frobnicate"])
    assert rc == 2, f"exit status {rc}; stderr {err!r}"
    lines = err.strip().splitlines()
    assert lines, "exited without a word on stderr"
    assert "frobnicate" in lines[0], f"first stderr line {lines[0]!r} does not name the subcommand"


def test_port_in_use_exits_1_with_one_line():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        rc, out, err = run_sockserv(["serve", f"tcp://127.0.0.1:{port}/echo"])
    assert_reports_one_problem(rc, out, err, 1, [str(port), "in use"])


def test_port_in_use_on_a_later_listener_exits_1():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        rc, out, err = run_sockserv(
            ["serve", "tcp://127.0.0.1:0/echo", f"tcp://127.0.0.1:{port}/upper"])
    assert rc == 1, f"exit status {rc}; stderr {err!r}"
    assert str(port) in err or "in use" in err.lower(), f"stderr {err!r}"


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize("first, second", [
    ([], []), (["--threads", "2"], ["--threads", "2"]), (["--workers", "2"], ["--workers", "2"]),
    ([], ["--workers", "2"]),
])
def test_a_second_server_on_a_port_in_use_exits_1(servers, transport, first, second):
    # SO_REUSEPORT (which --threads and --workers bind with) would let a
    # second server of the same user join the first one's port and take a
    # share of its clients; SO_REUSEADDR would do the same for UDP. Either
    # way the second server must be refused, as with any port in use.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    listener = f"{transport}://127.0.0.1:{port}/echo"
    server = servers.start(listener, options=[*first, "-q"], expect_lines=0)
    assert wait_until(lambda: port_bound(transport, port), timeout=5.0), server.describe()
    rc, out, err = run_sockserv(["serve", *second, listener])
    assert_reports_one_problem(rc, out, err, 1, [str(port), "in use"])


def port_bound(transport, port):
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def test_host_that_does_not_resolve_exits_1_with_one_line():
    rc, out, err = run_sockserv(["serve", "tcp://no-such-host.invalid:0/echo"], timeout=30)
    assert_reports_one_problem(rc, out, err, 1, ["no-such-host.invalid"])
