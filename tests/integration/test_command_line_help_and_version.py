"""
The command line explains itself: -h/--help prints usage, -V/--version
prints the version, both on stdout with exit status 0; durations are
accepted in the forms users write.
"""

import re

import pytest

from harness import MODELS, connect, echo_roundtrip, run_sockserv


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_prints_usage_and_exits_0(flag):
    rc, out, err = run_sockserv(["serve", flag])
    assert rc == 0, f"exit status {rc}; stderr {err!r}"
    assert "usage" in out.lower(), f"no usage on stdout: {out!r}"
    for option in ("--model", "--delay", "--max-conns", "--grace"):
        assert option in out, f"help does not mention {option}:\n{out}"
    assert "listening" not in out


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_prints_a_version_and_exits_0(flag):
    rc, out, err = run_sockserv(["serve", flag])
    assert rc == 0, f"exit status {rc}; stderr {err!r}"
    assert re.search(r"\d+\.\d+", out), f"no version number on stdout: {out!r}"
    assert len(out.strip().splitlines()) <= 3, out


@pytest.mark.parametrize("duration", ["250ms", "5s", "1m"])
def test_duration_forms_are_accepted(servers, duration):
    server = servers.start("tcp://127.0.0.1:0/echo",
                           options=["--delay", duration, "--grace", duration])
    with connect(server.addr("echo")) as c:
        assert echo_roundtrip(c, b"ok") == b"ok"


@pytest.mark.parametrize("flag", ["-q", "--quiet", "-v", "--verbose"])
def test_log_level_flags_are_accepted(servers, flag):
    server = servers.start("tcp://127.0.0.1:0/echo", options=[flag])
    with connect(server.addr("echo")) as c:
        assert echo_roundtrip(c, b"ok") == b"ok"


@pytest.mark.parametrize("model", MODELS)
def test_long_model_option_is_accepted(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["--model", model])
    with connect(server.addr("echo")) as c:
        assert echo_roundtrip(c, b"ok") == b"ok"
