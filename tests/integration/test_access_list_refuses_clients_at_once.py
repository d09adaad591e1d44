"""
--allow and --deny: a refused client is closed at once, before a byte (not
even daytime's line), while an allowed one is served; the most specific rule
wins; IPv6 (::1) and IPv4-mapped rules work; --allow-file reads a file; and
each refusal is logged, at most once a second per reason, with a count.
"""

import socket

import pytest

from access_helpers import connect_from, refused_at_once
from harness import MODELS, ipv6_loopback_error, recv_until


def daytime_line(addr, source):
    with connect_from(addr, source) as s:
        return recv_until(s, b"\n")


@pytest.mark.parametrize("model", MODELS)
def test_deny_closes_the_denied_source_and_serves_the_other(servers, model):
    server = servers.start("tcp://127.0.0.1:0/daytime", model=model,
                           options=["--deny", "127.0.0.2"])
    addr = server.addr("daytime")
    assert refused_at_once(addr, "127.0.0.2")
    assert daytime_line(addr, "127.0.0.1").endswith(b"\n")
    server.wait_for_stderr(r"refused 1 client from 127\.0\.0\.2: denied \(total 1\)")


@pytest.mark.parametrize("model", ["iterative", "epoll", "uring"])
def test_allow_serves_only_the_allowed_source(servers, model):
    server = servers.start("tcp://127.0.0.1:0/daytime", model=model,
                           options=["--allow", "127.0.0.2"])
    addr = server.addr("daytime")
    assert refused_at_once(addr, "127.0.0.1")
    assert daytime_line(addr, "127.0.0.2").endswith(b"\n")
    server.wait_for_stderr(r"refused 1 client from 127\.0\.0\.1: not in the allow list")


def test_the_most_specific_rule_wins(servers):
    server = servers.start(
        "tcp://127.0.0.1:0/daytime",
        options=["--allow", "127.0.0.0/8", "--deny", "127.0.0.0/24,127.0.1.0/24",
                 "--allow", "127.0.0.3/32"])
    addr = server.addr("daytime")
    for source, ok in [("127.0.0.1", False), ("127.0.0.3", True), ("127.0.1.1", False),
                       ("127.0.2.1", True)]:
        if ok:
            assert daytime_line(addr, source).endswith(b"\n"), source
        else:
            assert refused_at_once(addr, source), source


def test_an_ipv4_mapped_rule_is_an_ipv4_rule(servers):
    server = servers.start("tcp://127.0.0.1:0/daytime",
                           options=["--deny", "::ffff:127.0.0.2"])
    addr = server.addr("daytime")
    assert refused_at_once(addr, "127.0.0.2")
    assert daytime_line(addr, "127.0.0.1")


@pytest.mark.parametrize("options, served_ok", [
    (["--deny", "::1"], False),
    (["--allow", "::1/128"], True),
    (["--allow", "127.0.0.1"], False),
    (["--allow", "::/0", "--deny", "::1"], False),
], ids=["deny-::1", "allow-::1", "allow-only-v4", "deny-more-specific"])
def test_ipv6_rules(servers, options, served_ok):
    why = ipv6_loopback_error()
    if why:
        pytest.skip(f"no IPv6 loopback: {why}")
    server = servers.start("tcp://[::1]:0/daytime", options=options)
    addr = server.addr("daytime", socket.AF_INET6)
    if served_ok:
        assert daytime_line(addr, "::1").endswith(b"\n")
    else:
        assert refused_at_once(addr, "::1")


def test_allow_file(servers, tmp_path):
    rules = tmp_path / "allow"
    rules.write_text("# who may connect\n\n127.0.0.2   # the test client\n::1\n")
    server = servers.start("tcp://127.0.0.1:0/daytime", options=["--allow-file", str(rules)])
    addr = server.addr("daytime")
    assert daytime_line(addr, "127.0.0.2").endswith(b"\n")
    assert refused_at_once(addr, "127.0.0.1")


def test_refusals_are_logged_once_a_second_with_a_running_count(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["--deny", "127.0.0.2"])
    addr = server.addr("echo")
    for _ in range(20):
        assert refused_at_once(addr, "127.0.0.2")
    server.wait_for_stderr(r"refused 1 client from 127\.0\.0\.2: denied \(total 1\)")
    # The other 19 came within the same second: at most one more line by
    # now, and the next line, whenever it comes, carries them.
    lines = [line for line in server.stderr_text().splitlines() if "refused" in line]
    assert len(lines) <= 2, lines
