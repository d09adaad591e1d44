"""
A bad option value ends the command with exactly one line on stderr and
exit status 2, and that line names the option and what it accepts: a size
says its range, a rate of 0 points at 'off', a duration shows what one looks
like, and --threads under a model that cannot take it says why for that
model (before any note about the default listeners). '.5s' is a duration.
"""

import socket
import time

import pytest

from harness import connect, recv_until, run_sockserv

CASES = [
    pytest.param(["serve", "--max-line", "10"], ["--max-line", "'10'", "64", "1G"], id="max-line-10"),
    pytest.param(["serve", "--max-line", "2G"], ["--max-line", "64", "1G"], id="max-line-2G"),
    pytest.param(["serve", "--max-queue", "10"], ["--max-queue", "64", "1G"], id="max-queue-10"),
    pytest.param(["serve", "--max-queue", "lots"], ["--max-queue", "64", "1G"], id="max-queue-word"),
    pytest.param(["serve", "--udp-rate", "0"], ["--udp-rate", "'0'", "off"], id="udp-rate-0"),
    pytest.param(["serve", "--udp-rate", "0/50"], ["--udp-rate", "off"], id="udp-rate-0-burst"),
    pytest.param(["serve", "--udp-rate", "fast"], ["--udp-rate", "RATE", "off"], id="udp-rate-word"),
    pytest.param(["serve", "--chat-rate", "0"], ["--chat-rate", "off"], id="chat-rate-0"),
    pytest.param(["serve", "--max-conns", "0"], ["--max-conns", "from 1 to"], id="max-conns-0"),
    pytest.param(["serve", "--max-datagrams", "x"], ["--max-datagrams", "from 1 to"],
                 id="max-datagrams-word"),
    pytest.param(["serve", "--chat-notices-max", "-1"], ["--chat-notices-max", "from 0 to"],
                 id="chat-notices-max-negative"),
    pytest.param(["serve", "--grace", "soon"], ["--grace", "500ms", "5s"], id="grace-word"),
    pytest.param(["serve", "--delay", "..5s"], ["--delay", "500ms"], id="delay-two-points"),
    pytest.param(["serve", "-m", "iterative", "--threads", "2"],
                 ["--threads", "event-loop", "iterative", "one connection at a time", "--workers"],
                 id="iterative-threads"),
    pytest.param(["serve", "-m", "fork", "-t", "2"],
                 ["--threads", "fork", "a process per connection"], id="fork-threads"),
    pytest.param(["serve", "-m", "thread", "-t", "2"],
                 ["--threads", "thread", "a thread per connection"], id="thread-threads"),
    pytest.param(["client", "--timeout", "x", "tcp://127.0.0.1:9"], ["--timeout", "500ms"],
                 id="client-timeout-word"),
    pytest.param(["chat", "--linger", "x", "tcp://127.0.0.1:9"], ["--linger", "500ms"],
                 id="chat-linger-word"),
    pytest.param(["bench", "--duration", "x", "tcp://127.0.0.1:9"], ["--duration", "500ms"],
                 id="bench-duration-word"),
]


@pytest.mark.parametrize("args, mentions", CASES)
def test_bad_value_is_one_line_naming_option_and_range(args, mentions):
    # serve runs with no LISTENER where it can, so the default set (whose
    # notes, such as iterative's "not serving chat", come after the
    # options are checked) is in play too.
    rc, out, err = run_sockserv(args)
    assert rc == 2, f"exit status {rc}; stderr {err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n{err}"
    for word in mentions:
        assert word in lines[0], f"{lines[0]!r} does not say {word!r}"
    assert "listening" not in out


def test_iterative_threads_says_nothing_about_chat():
    rc, _, err = run_sockserv(["serve", "-m", "iterative", "--threads", "2"])
    assert rc == 2
    # The old reason was wrong: iterative runs no threads or processes.
    assert "already runs its own threads" not in err
    assert "not serving" not in err, err


def test_half_a_second_written_with_a_leading_point_is_accepted(servers):
    # upper's --delay .5s: the answer comes after about half a second.
    server = servers.start("tcp://127.0.0.1:0/upper", options=["--delay", ".5s"])
    with connect(server.addr("upper")) as c:
        started = time.monotonic()
        c.sendall(b"half\n")
        assert recv_until(c, b"\n", timeout=10) == b"HALF\n"
        took = time.monotonic() - started
    assert 0.4 <= took < 5, f"--delay .5s answered after {took:.2f}s"


@pytest.mark.parametrize("written", [".5s", "0.5s", ".5"])
def test_client_timeout_of_half_a_second(written):
    # A server that accepts and never answers: the client gives up after
    # --timeout, which must be half a second however it is written.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"tcp://127.0.0.1:{silent.getsockname()[1]}/echo"
        started = time.monotonic()
        rc, _, err = run_sockserv(["client", "--timeout", written, url, "hi"], timeout=10)
        took = time.monotonic() - started
    assert rc == 1, f"exit status {rc}; stderr {err!r}"
    assert "500ms" in err, err
    assert 0.4 <= took < 5, f"--timeout {written} gave up after {took:.2f}s"
