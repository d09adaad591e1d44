"""
Bad options and bad URLs get one clear line on stderr and exit status 2,
before any connection is made.
"""

import pytest

from harness import run_sockserv

URL = "tcp://127.0.0.1:9"


@pytest.mark.parametrize("args,want", [
    ([], "missing URL"),
    (["-c", "0", URL], "--connections"),
    (["-c", "many", URL], "--connections"),
    (["-d", "0", URL], "--duration"),
    (["-d", "10 parsecs", URL], "--duration"),
    (["--timeout", "-1s", URL], "--timeout"),
    (["-s", "0", URL], "--size"),
    (["-s", "10", "-m", "hi", URL], "-s and -m"),
    (["-p", "100000", URL], "--pipeline"),
    (["--rate", "fast", URL], "--rate"),
    (["--connect-rate", "0", URL], "--connect-rate"),
    (["--expect", "shout", URL], "--expect"),
    (["-t", "3", "-c", "2", URL], "--threads"),
    (["--dribble", "100ms", "udp://127.0.0.1:9"], "--dribble"),
    (["-s", "70000", "udp://127.0.0.1:9"], "datagram"),
    (["--frobnicate", URL], "unknown option"),
    (["-c"], "needs a value"),
    ([URL, URL], "one URL"),
    (["tcp://127.0.0.1"], "port"),
    (["ftp://127.0.0.1:21"], "ftp"),
    (["tcp://127.0.0.1:0"], "port 0"),
    (["tcp://127.0.0.1:13/daytime"], "daytime"),
])
def test_bad_command_line_is_one_line_and_exit_2(args, want):
    rc, out, err = run_sockserv(["bench", *args])
    assert rc == 2, f"exit {rc}; stderr {err!r}"
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {err!r}"
    assert lines[0].startswith("sockserv bench: ")
    assert want in lines[0], f"{want!r} not in {lines[0]!r}"


def test_unresolvable_host_is_a_runtime_error():
    rc, out, err = run_sockserv(["bench", "-d", "1s", "tcp://no-such-host.invalid:7"])
    assert rc == 1
    assert "no-such-host.invalid" in err
    assert len(err.strip().splitlines()) == 1


def test_help_lists_every_option():
    rc, out, err = run_sockserv(["bench", "--help"])
    assert rc == 0 and err == ""
    for option in ["--connections", "--threads", "--duration", "--requests", "--size",
                   "--message", "--pipeline", "--rate", "--connect-rate", "--dribble",
                   "--expect", "--timeout", "--warmup", "--json"]:
        assert option in out
