"""
A bracketed IPv6 address is IPv6 only (sockserv sets IPV6_V6ONLY), `[::]`
included: it takes IPv6 clients and refuses IPv4 ones. `*` is the form that
serves both (test_listener_announcements.py checks it), as README, --help
and the man page say.
"""

from harness import connect, connect_refused, echo_roundtrip, run_sockserv


def test_ipv6_any_refuses_ipv4_and_serves_ipv6(servers, require_ipv6):
    server = servers.start("tcp://[::]:0/echo")
    assert [l.host for l in server.listeners] == ["::"], server.listeners
    port = server.listeners[0].port
    with connect(("::1", port)) as c:
        assert echo_roundtrip(c, b"six") == b"six"
    assert connect_refused(("127.0.0.1", port)), "an IPv4 client reached [::]"


def test_help_says_ipv6_any_is_ipv6_only_and_star_is_both():
    rc, out, _ = run_sockserv(["serve", "--help"])
    assert rc == 0
    text = " ".join(out.split())
    assert "[::] takes no IPv4 client" in text and "use * for both" in text, out
