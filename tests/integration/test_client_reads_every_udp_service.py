"""
`sockserv client` against sockserv over UDP: echo and upper replies come
back verified (one datagram per line of standard input, too), time is
requested with an empty datagram and decoded, daytime is one line, and
chargen's reply is as long as the request.
"""

import re
import subprocess
import time

from harness import BINARY, IO_TIMEOUT, RFC868_EPOCH_OFFSET, chargen_stream

CLIENT_TIMEOUT = 20.0
UDP_LISTENING_RE = re.compile(
    r"^listening udp://(?P<host>\[[0-9A-Fa-f:.]+\]|[0-9.]+):(?P<port>[0-9]+)/(?P<service>[a-z0-9_-]+)$")


def run_client(*args, input=b""):
    """Runs `sockserv client ARGS` to completion: (status, stdout, stderr)."""
    proc = subprocess.run([BINARY, "client", *args], input=input, capture_output=True,
                          timeout=CLIENT_TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def start_udp(servers, *listeners, options=()):
    """Starts sockserv on UDP listeners; returns {service: url}.

    The announcement lines are read here rather than by the harness, which
    knows TCP listeners only.
    """
    server = servers.start(*listeners, options=options, expect_lines=0)
    urls = {}
    deadline = time.monotonic() + IO_TIMEOUT
    while len(urls) < len(listeners):
        assert time.monotonic() < deadline and server.alive(), (
            f"UDP listeners not announced; stdout {server.stdout_lines!r}\n{server.describe()}")
        server.collect_more_listening(0.05)
        for line in server.stdout_lines:
            m = UDP_LISTENING_RE.match(line.rstrip("\r\n"))
            if m:
                urls[m.group("service")] = line.split(" ", 1)[1].rstrip("\r\n")
    return urls


def test_udp_echo_message_comes_back_verified(servers):
    urls = start_udp(servers, "udp://127.0.0.1:0/echo")
    rc, out, err = run_client(urls["echo"], "--verify", "hello", "datagram")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"hello datagram\n"


def test_udp_echo_sends_one_datagram_per_input_line(servers):
    urls = start_udp(servers, "udp://127.0.0.1:0/echo")
    lines = b"first\nsecond line\n\nlast, unterminated"
    rc, out, err = run_client(urls["echo"], "--verify", input=lines)
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == lines


def test_udp_upper_message_comes_back_verified(servers):
    urls = start_udp(servers, "udp://127.0.0.1:0/upper", options=["--delay", "100ms"])
    rc, out, err = run_client(urls["upper"], "--verify", "shout", "this")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"SHOUT THIS\n"


def test_udp_upper_lines_from_standard_input(servers):
    urls = start_udp(servers, "udp://127.0.0.1:0/upper", options=["--delay", "10ms"])
    rc, out, err = run_client(urls["upper"], "--verify", input=b"one\ntwo\nthree\n")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"ONE\nTWO\nTHREE\n"


def test_udp_time_is_printed_as_a_date(servers):
    urls = start_udp(servers, "udp://127.0.0.1:0/time")
    rc, out, err = run_client(urls["time"])
    now_1900 = int(time.time()) + RFC868_EPOCH_OFFSET
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    m = re.fullmatch(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((\d+) seconds since 1900\)\n", out)
    assert m, f"not a decoded time: {out!r}"
    assert abs(int(m.group(1)) - now_1900) <= 5


def test_udp_daytime_is_one_line(servers):
    urls = start_udp(servers, "udp://127.0.0.1:0/daytime")
    rc, out, err = run_client(urls["daytime"])
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert re.fullmatch(rb"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n", out), out


def test_udp_chargen_reply_is_as_long_as_the_request(servers):
    urls = start_udp(servers, "udp://127.0.0.1:0/chargen")
    rc, out, err = run_client(urls["chargen"])
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == chargen_stream(512)
    rc, out, err = run_client(urls["chargen"], "--bytes", "100")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == chargen_stream(100)
