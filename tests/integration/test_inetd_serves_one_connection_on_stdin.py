"""
`sockserv serve --inetd SERVICE`: the connection inetd, xinetd or a systemd
Accept=yes unit accepted is on stdin (and stdout); sockserv serves it with
the same connection code and limits as any listener, and exits 0 when it
ends, having written nothing but the service's bytes to it. Driven here over
a socketpair, one end as the server's stdin and stdout.
"""

import os
import pwd
import socket
import subprocess

import pytest

import harness


def start_inetd(service, options=(), stderr=subprocess.PIPE):
    """(process, our end of the connection)."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([harness.BINARY, "serve", "--inetd", service, *options],
                            stdin=theirs, stdout=theirs, stderr=stderr, start_new_session=True)
    # Only the server may hold its end, or its close would never reach us.
    theirs.close()
    ours.settimeout(harness.IO_TIMEOUT)
    return proc, ours


def finish(proc):
    try:
        _, err = proc.communicate(timeout=harness.IO_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("sockserv --inetd still ran after its connection ended")
    return proc.returncode, err.decode()


def test_inetd_echo_echoes_and_exits_when_the_client_closes():
    proc, s = start_inetd("echo")
    with s:
        for i in range(3):
            assert harness.echo_roundtrip(s, b"line %d\n" % i) == b"line %d\n" % i
        big = os.urandom(300_000)
        assert harness.stream_through(s, big) == big
        s.shutdown(socket.SHUT_WR)
        assert harness.recv_all(s) == b""
    rc, err = finish(proc)
    assert rc == 0, err


def test_inetd_upper_answers_each_line_then_closes():
    proc, s = start_inetd("upper", ["--delay", "10ms"])
    with s:
        s.sendall(b"hello\nworld\n")
        s.shutdown(socket.SHUT_WR)
        assert harness.recv_all(s) == b"HELLO\nWORLD\n"
    rc, err = finish(proc)
    assert rc == 0, err


def test_inetd_keeps_the_servers_limits():
    """--max-line holds as for any listener: an overlong line gets upper's
    error, and the connection goes on."""
    proc, s = start_inetd("upper", ["--delay", "1ms", "--max-line", "64"])
    with s:
        s.sendall(b"x" * 200 + b"\nshort\n")
        s.shutdown(socket.SHUT_WR)
        reply = harness.recv_all(s)
    assert reply.endswith(b"SHORT\n") and b"X" * 64 not in reply, reply
    assert finish(proc)[0] == 0


def test_inetd_idle_timeout_ends_a_silent_client():
    proc, s = start_inetd("echo", ["--idle-timeout", "200ms"])
    with s:
        assert harness.recv_all(s, timeout=harness.IO_TIMEOUT) == b""
    assert finish(proc)[0] == 0


def test_inetd_daytime_says_the_time_and_closes():
    proc, s = start_inetd("daytime")
    with s:
        assert b":" in harness.recv_all(s)
    assert finish(proc)[0] == 0


def test_inetd_stops_gracefully_on_sigterm():
    proc, s = start_inetd("echo", ["--grace", "200ms"])
    with s:
        assert harness.echo_roundtrip(s, b"before\n") == b"before\n"
        proc.terminate()
        assert harness.recv_all(s) == b""
    assert finish(proc)[0] == 0


def test_inetd_drops_root_with_user():
    if os.geteuid() != 0:
        pytest.skip("needs root: --user drops root")
    proc, s = start_inetd("echo", ["--user", "nobody"])
    with s:
        assert harness.echo_roundtrip(s, b"who\n") == b"who\n"
        with open(f"/proc/{proc.pid}/status") as f:
            status = dict(line.split(":", 1) for line in f)
        assert status["Uid"].split() == [str(pwd.getpwnam("nobody").pw_uid)] * 4
        assert int(status["CapEff"], 16) == 0
    assert finish(proc)[0] == 0


@pytest.mark.parametrize("args,stdin,why", [
    (["--inetd", "echo"], "pipe", "not a socket"),
    (["--inetd", "chat"], "socket", "no two clients"),
    (["--inetd", "nosuch"], "socket", "unknown service"),
    (["--inetd", "echo", "tcp://127.0.0.1:0/echo"], "socket", "give no LISTENER"),
    (["--inetd", "echo", "--workers", "2"], "socket", "do not apply"),
])
def test_inetd_refusals_are_one_line(args, stdin, why):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        proc = subprocess.run([harness.BINARY, "serve", *args],
                              stdin=theirs if stdin == "socket" else subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert proc.returncode == 2
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and why in lines[0], proc.stderr


def start_inetd_over_tcp(service, options):
    """As start_inetd, over a real TCP connection from 127.0.0.1, so the
    server sees an address its access lists can judge."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        ours = socket.create_connection(listening.getsockname(), timeout=harness.IO_TIMEOUT)
        theirs, _ = listening.accept()
    proc = subprocess.Popen([harness.BINARY, "serve", "--inetd", service, *options],
                            stdin=theirs, stdout=theirs, stderr=subprocess.PIPE,
                            start_new_session=True)
    theirs.close()
    return proc, ours


@pytest.mark.parametrize("rules, served", [(["--deny", "127.0.0.0/8"], False),
                                           (["--allow", "10.0.0.0/8"], False),
                                           (["--allow", "127.0.0.1"], True)])
def test_inetd_keeps_the_access_lists(rules, served):
    proc, s = start_inetd_over_tcp("echo", rules)
    with s:
        try:
            s.sendall(b"hello\n")
            got = s.recv(100)
        except ConnectionResetError:
            got = b""
        assert got == (b"hello\n" if served else b""), f"with {rules}: {got!r}"
    rc, err = finish(proc)
    assert rc == 0, err
