"""
Every way `sockserv client` can fail ends it with one clear line on stderr:
exit status 2 for what the user typed wrong (a malformed URL, an unknown
service, options that do not fit), 1 for what the network said (a refused
port, over TCP or UDP, and a server that never answers), and both fast.
"""

import socket
import subprocess
import time

import pytest

from harness import BINARY

CLIENT_TIMEOUT = 20.0


def run_client(*args, input=b""):
    """Runs `sockserv client ARGS` to completion: (status, stdout, stderr, seconds)."""
    started = time.monotonic()
    proc = subprocess.run([BINARY, "client", *args], input=input, capture_output=True,
                          timeout=CLIENT_TIMEOUT)
    return (proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"),
            time.monotonic() - started)


def one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith("sockserv client: "), lines[0]
    return lines[0]


def unused_port(kind):
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


USAGE_ERRORS = [
    pytest.param([], ["missing URL"], id="no-url"),
    pytest.param(["127.0.0.1:7"], ["bad URL", "://"], id="no-scheme"),
    pytest.param(["tcp:/127.0.0.1:7"], ["bad URL", "://"], id="one-slash"),
    pytest.param(["gopher://127.0.0.1:70"], ["bad URL", "gopher"], id="unknown-scheme"),
    pytest.param(["tcp://127.0.0.1"], ["bad URL", "missing port"], id="no-port"),
    pytest.param(["tcp://127.0.0.1:99999"], ["bad URL", "out of range"], id="port-range"),
    pytest.param(["tcp://127.0.0.1:0/echo"], ["bad URL", "port 0"], id="port-0"),
    pytest.param(["tcp://*:7/echo"], ["bad URL", "cannot connect to *"], id="star"),
    pytest.param(["tcp://::1:7"], ["bad URL", "brackets"], id="unbracketed-ipv6"),
    pytest.param(["tcp://127.0.0.1:7/Echo"], ["bad URL", "service"], id="bad-service-name"),
    pytest.param(["tcp://127.0.0.1:7/nope"], ["unknown service 'nope'"], id="unknown-service"),
    pytest.param(["-s", "nope", "tcp://127.0.0.1:7"], ["unknown service 'nope'"],
                 id="unknown-service-option"),
    pytest.param(["-s", "upper", "tcp://127.0.0.1:7/echo"], ["URL names service 'echo'"],
                 id="conflicting-services"),
    pytest.param(["--timeout", "5parsecs", "tcp://127.0.0.1:7"], ["--timeout", "5parsecs"],
                 id="bad-timeout"),
    pytest.param(["--timeout", "0", "tcp://127.0.0.1:7"], ["--timeout", "more than 0"],
                 id="zero-timeout"),
    pytest.param(["--retries", "-1", "udp://127.0.0.1:7"], ["--retries"], id="bad-retries"),
    pytest.param(["--bytes", "0", "tcp://127.0.0.1:19"], ["--bytes"], id="zero-bytes"),
    pytest.param(["--verify", "tcp://127.0.0.1:37/time"], ["--verify", "time"],
                 id="verify-time"),
    pytest.param(["tcp://127.0.0.1:13/daytime", "hi"], ["daytime takes no MESSAGE"],
                 id="message-to-daytime"),
    pytest.param(["--bytes", "5", "tcp://127.0.0.1:37/time"], ["--bytes", "time"],
                 id="bytes-for-time"),
    pytest.param(["--bytes", "5", "udp://127.0.0.1:7/echo"], ["--bytes", "chargen"],
                 id="bytes-for-udp-echo"),
    pytest.param(["--bytes", "70000", "udp://127.0.0.1:19/chargen"], ["--bytes", "65507"],
                 id="bytes-over-a-datagram"),
    pytest.param(["--frobnicate", "tcp://127.0.0.1:7"], ["unknown option '--frobnicate'"],
                 id="unknown-option"),
    pytest.param(["tcp://127.0.0.1:7", "--timeout"], ["'--timeout' needs a value"],
                 id="option-without-value"),
]


@pytest.mark.parametrize("args, mentions", USAGE_ERRORS)
def test_usage_error_exits_2_with_one_line(args, mentions):
    rc, out, err, _ = run_client(*args)
    assert rc == 2, f"exit {rc}, stderr {err!r}"
    line = one_line(err)
    for m in mentions:
        assert m in line, f"{line!r} does not mention {m!r}"
    assert out == b""


def test_oversized_udp_message_is_a_usage_error():
    rc, _, err, _ = run_client("udp://127.0.0.1:7/echo", "x" * 70000)
    assert rc == 2, f"exit {rc}, stderr {err!r}"
    assert "65507" in one_line(err)


def test_help_goes_to_stdout_and_exits_0():
    rc, out, err, _ = run_client("--help")
    assert (rc, err) == (0, "")
    text = out.decode()
    assert text.startswith("usage: sockserv client [OPTIONS] URL [MESSAGE...]")
    for word in ("--verify", "--timeout", "--retries", "--bytes", "--service", "upper"):
        assert word in text, f"--help does not mention {word}"
    rc, out2, _, _ = run_client("-h")
    assert rc == 0 and out2 == out


def test_refused_tcp_port_is_one_line_and_fast():
    port = unused_port(socket.SOCK_STREAM)
    rc, out, err, elapsed = run_client(f"tcp://127.0.0.1:{port}/echo", "hi")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert one_line(err) == (
        f"sockserv client: cannot connect to tcp://127.0.0.1:{port}/echo: Connection refused")
    assert out == b""
    assert elapsed < 2, f"took {elapsed:.1f}s"


def test_refused_udp_port_is_one_line_and_fast():
    """The default timeout is 10 s; finishing well within it shows the
    ICMP port unreachable was heard, not waited out."""
    port = unused_port(socket.SOCK_DGRAM)
    rc, out, err, elapsed = run_client(f"udp://127.0.0.1:{port}/echo", "hi")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    line = one_line(err)
    assert f"udp://127.0.0.1:{port}/echo" in line and "refused" in line.lower(), line
    assert out == b""
    assert elapsed < 2, f"took {elapsed:.1f}s"


def test_refused_udp_port_for_time_is_one_line():
    port = unused_port(socket.SOCK_DGRAM)
    rc, _, err, elapsed = run_client(f"udp://127.0.0.1:{port}/time")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert "refused" in one_line(err).lower()
    assert elapsed < 2, f"took {elapsed:.1f}s"


@pytest.mark.parametrize("retries", [0, 2])
def test_udp_timeout_is_one_line_after_every_try(retries):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        rc, out, err, elapsed = run_client(f"udp://127.0.0.1:{port}/echo", "--timeout", "500ms",
                                           "--retries", str(retries), "anyone?")
        # Every try reached the socket.
        silent.settimeout(1)
        tries = 0
        try:
            while True:
                assert silent.recv(100) == b"anyone?\n"
                tries += 1
                silent.settimeout(0.05)
        except socket.timeout:
            pass
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    line = one_line(err)
    assert f"no reply from udp://127.0.0.1:{port}/echo within 500ms" in line, line
    assert tries == retries + 1
    budget = 0.5 * (retries + 1)
    assert budget - 0.1 <= elapsed <= budget + 1, f"took {elapsed:.2f}s for a {budget}s budget"
    assert out == b""


def test_unresolvable_host_exits_1_with_one_line():
    rc, _, err, _ = run_client("tcp://no-such-host.invalid:7/echo", "hi")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert "no-such-host.invalid" in one_line(err)
