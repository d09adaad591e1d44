"""
`sockserv client` against sockserv over TCP: echo and upper come back
verified, time is decoded to a date, daytime printed as one line, discard
is sent to without waiting, and chargen --bytes N prints exactly N bytes.
"""

import re
import socket
import subprocess
import time

from harness import BINARY, RFC868_EPOCH_OFFSET, chargen_stream

CLIENT_TIMEOUT = 20.0


def run_client(*args, input=b""):
    """Runs `sockserv client ARGS` to completion: (status, stdout, stderr)."""
    proc = subprocess.run([BINARY, "client", *args], input=input, capture_output=True,
                          timeout=CLIENT_TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def url(server, service):
    host, port = server.addr(service)
    return f"tcp://{host}:{port}/{service}"


def test_echo_message_comes_back_verified(servers):
    server = servers.start("tcp://127.0.0.1:0/echo")
    rc, out, err = run_client(url(server, "echo"), "--verify", "hello", "world")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"hello world\n"


def test_upper_message_comes_back_uppercased_and_verified(servers):
    server = servers.start("tcp://127.0.0.1:0/upper", options=["--delay", "100ms"])
    started = time.monotonic()
    rc, out, err = run_client(url(server, "upper"), "--verify", "mixed Case 42!")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"MIXED CASE 42!\n"
    assert time.monotonic() - started >= 0.1, "answered before upper's delay"


def test_time_is_printed_as_a_date(servers):
    server = servers.start("tcp://127.0.0.1:0/time")
    rc, out, err = run_client(url(server, "time"))
    now_1900 = int(time.time()) + RFC868_EPOCH_OFFSET
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    m = re.fullmatch(rb"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC \((\d+) seconds since 1900\)\n", out)
    assert m, f"not a decoded time: {out!r}"
    seconds = int(m.group(2))
    assert abs(seconds - now_1900) <= 5, f"{seconds} is not now ({now_1900})"
    expected_date = time.strftime("%Y-%m-%d %H:%M:%S",
                                  time.gmtime(seconds - RFC868_EPOCH_OFFSET))
    assert m.group(1).decode() == expected_date


def test_daytime_is_printed_as_one_clean_line(servers):
    server = servers.start("tcp://127.0.0.1:0/daytime")
    rc, out, err = run_client(url(server, "daytime"))
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert re.fullmatch(rb"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n", out), out


def test_discard_is_sent_to_without_waiting(servers):
    # A long grace would make any wait for the server's close show.
    server = servers.start("tcp://127.0.0.1:0/discard", options=["-v"])
    started = time.monotonic()
    rc, out, err = run_client(url(server, "discard"), "into", "the", "void")
    assert (rc, out, err) == (0, b"", ""), f"exit {rc}, stdout {out!r}, stderr {err!r}"
    assert time.monotonic() - started < 3
    # The server saw every byte: "into the void\n" is 14.
    server.wait_for_stderr(r"discard \(in 14 B")


def test_chargen_bytes_prints_exactly_that_many(servers):
    server = servers.start("tcp://127.0.0.1:0/chargen")
    rc, out, err = run_client(url(server, "chargen"), "--bytes", "1000")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert len(out) == 1000
    assert out == chargen_stream(1000)


def test_large_chargen_count_streams_through(servers):
    server = servers.start("tcp://127.0.0.1:0/chargen")
    rc, out, err = run_client(url(server, "chargen"), "-b", str(3 * 1024 * 1024 + 7))
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == chargen_stream(3 * 1024 * 1024 + 7)


def test_service_option_names_the_service(servers):
    server = servers.start("tcp://127.0.0.1:0/upper", options=["--delay", "10ms"])
    host, port = server.addr("upper")
    rc, out, err = run_client(f"tcp://{host}:{port}", "--service", "upper", "--verify", "abc")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"ABC\n"


def test_no_newline_sends_the_bare_words(servers):
    server = servers.start("tcp://127.0.0.1:0/echo")
    rc, out, err = run_client(url(server, "echo"), "-n", "--verify", "no", "newline")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"no newline"


def test_host_name_reaches_a_listener_on_one_of_its_addresses(servers):
    server = servers.start("tcp://127.0.0.1:0/echo")
    _, port = server.addr("echo")
    rc, out, err = run_client(f"tcp://localhost:{port}/echo", "--verify", "by name")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"by name\n"


def test_ipv6_literal(servers, require_ipv6):
    server = servers.start("tcp://[::1]:0/echo")
    _, port = server.addr("echo", family=socket.AF_INET6)
    rc, out, err = run_client(f"tcp://[::1]:{port}/echo", "--verify", "six")
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"six\n"
