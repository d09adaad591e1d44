"""
A listener's own settings, after '?' in its spec, override the server-wide
options for it alone: tcp://127.0.0.1:0/echo?allow=127.0.0.2&max-per-source=1.
Listeners without a query keep the server-wide options. A bad key or value
is a usage error (exit 2, one line) that names it.
"""

import contextlib

import pytest

from access_helpers import connect_from, served, try_echo_from
from harness import run_sockserv


def test_query_overrides_the_server_wide_access_and_limits(servers):
    server = servers.start(
        "tcp://127.0.0.1:0/echo",
        "tcp://127.0.0.1:0/upper?allow=127.0.0.2&max-per-source=1",
        options=["--deny", "127.0.0.2", "--max-per-source", "3", "--delay", "1ms"])
    echo, upper = server.addr("echo"), server.addr("upper")
    with contextlib.ExitStack() as stack:
        def attempt(addr, source):
            sock, ok = try_echo_from(addr, source)
            stack.enter_context(sock)
            return ok

        # echo: the server-wide rules, .2 denied and 3 per source.
        assert not attempt(echo, "127.0.0.2")
        assert [attempt(echo, "127.0.0.1") for _ in range(4)] == [True, True, True, False]
        # upper: only .2, and 1 of it at a time.
        assert not upper_served(upper, "127.0.0.1", stack)
        assert upper_served(upper, "127.0.0.2", stack)
        assert not upper_served(upper, "127.0.0.2", stack)


def upper_served(addr, source, stack):
    try:
        sock = connect_from(addr, source)
    except ConnectionResetError:  # Refused before connect() returned.
        return False
    stack.enter_context(sock)
    try:
        sock.sendall(b"hi\n")
        data = sock.recv(16)
    except (ConnectionResetError, BrokenPipeError):
        return False
    return data.startswith(b"HI")


def test_query_idle_timeout_applies_to_its_listener_only(servers):
    server = servers.start("tcp://127.0.0.1:0/discard",
                           "tcp://127.0.0.1:0/echo?idle-timeout=off",
                           options=["--idle-timeout", "200ms"])
    with connect_from(server.addr("discard"), "127.0.0.1") as cut, \
            connect_from(server.addr("echo"), "127.0.0.1") as kept:
        cut.settimeout(3)
        assert cut.recv(16) == b"", "the server-wide idle timeout did not cut discard"
        # By now echo has been as idle as discard was when it was cut.
        assert served(kept), "echo?idle-timeout=off was cut"


@pytest.mark.parametrize("spec, wanted", [
    ("tcp://127.0.0.1:0/echo?alow=10.0.0.0/8", "unknown setting 'alow'"),
    ("tcp://127.0.0.1:0/echo?max-per-source=0", "bad max-per-source '0'"),
    ("tcp://127.0.0.1:0/echo?connect-rate=fast", "bad connect-rate 'fast'"),
    ("tcp://127.0.0.1:0/echo?allow=10.0.0.0/33", "bad allow"),
    ("tcp://127.0.0.1:0/echo?source-prefix6=200", "bad source-prefix6"),
    ("tcp://127.0.0.1:0/echo?idle-timeout=soon", "bad idle-timeout"),
    ("tcp://127.0.0.1:0/echo?allow-file=/nonexistent", "bad allow-file"),
    ("tcp://127.0.0.1:0/echo?", "empty settings"),
    ("tcp://127.0.0.1:0/echo?allow", "missing '=VALUE'"),
    ("udp://127.0.0.1:0/echo?max-per-source=2", "for TCP listeners"),
])
def test_a_bad_listener_setting_exits_2_naming_it(spec, wanted):
    rc, out, err = run_sockserv(["serve", spec])
    assert rc == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert wanted in err, err


@pytest.mark.parametrize("args, wanted", [
    (["--allow", "10.0.0.0/33"], "bad --allow '10.0.0.0/33'"),
    (["--deny", "not-an-address"], "bad --deny"),
    (["--allow", "10.0.0.0/8,"], "empty item"),
    (["--max-per-source", "0"], "bad --max-per-source '0'"),
    (["--max-per-source", "lots"], "bad --max-per-source"),
    (["--source-prefix6", "0"], "bad --source-prefix6"),
    (["--connect-rate", "0"], "bad --connect-rate '0'"),
    (["--connect-rate", "5/0"], "bad --connect-rate"),
    (["--allow-file", "/nonexistent/allow"], "cannot read /nonexistent/allow"),
])
def test_a_bad_access_option_exits_2_with_one_line(args, wanted):
    rc, out, err = run_sockserv(["serve", *args, "tcp://127.0.0.1:0/echo"])
    assert rc == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert wanted in err, err


def test_a_bad_allow_file_line_names_file_and_line(tmp_path):
    rules = tmp_path / "allow"
    rules.write_text("# fine\n10.0.0.0/8\n\nlocalhost\n")
    rc, _, err = run_sockserv(["serve", "--allow-file", str(rules), "tcp://127.0.0.1:0/echo"])
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    assert f"{rules}:4:" in err, err
