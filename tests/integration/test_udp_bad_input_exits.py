"""
UDP usage errors exit with status 2 and one line on stderr, before anything
is served: a bad --udp-rate, --max-datagrams or --datagram-time, and a
udp:// listener for chat, which needs a stream.
"""

import pytest

from harness import run_sockserv


def assert_usage_error(args, *words):
    rc, out, err = run_sockserv(args)
    assert rc == 2, f"`sockserv {' '.join(args)}` exited {rc}; stderr {err!r}"
    assert out == "", f"stdout should be empty on a usage error: {out!r}"
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


@pytest.mark.parametrize("value", ["x", "", "-1", "5/0", "5/x", "1/2/3", "5/", "ten"])
def test_bad_udp_rate_exits_2_with_one_line(value):
    assert_usage_error(["serve", "--udp-rate", value, "udp://127.0.0.1:0/echo"], "--udp-rate")


@pytest.mark.parametrize("value", ["0", "-3", "x", "1.5"])
def test_bad_max_datagrams_exits_2_with_one_line(value):
    assert_usage_error(["serve", "--max-datagrams", value, "udp://127.0.0.1:0/echo"],
                       "--max-datagrams")


@pytest.mark.parametrize("value", ["-1", "x", "5q"])
def test_bad_datagram_time_exits_2_with_one_line(value):
    assert_usage_error(["serve", "--datagram-time", value, "udp://127.0.0.1:0/echo"],
                       "--datagram-time")


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_chat_over_udp_is_refused(host):
    assert_usage_error(["serve", f"udp://{host}:0/chat"], "chat")
