"""
The metrics service counts the UDP defences' drops by reason: datagrams
over a source's rate ("rate") and datagrams from one of the server's own
ports ("port"). Every datagram the test sent is either received or counted
dropped.
"""

import time

import pytest

from harness import wait_until
from metrics_helpers import scrape, value
from udp_helpers import datagrams_within, start_udp, udp_addr, udp_socket

SENT = 100
RATE = "10/20"


def udp_figures(server, name):
    s = scrape(server.addr("metrics"))
    return {what: value(s, f"sockserv_datagrams_{what}_total", name)
            for what in ("received", "sent")} | {
        reason: value(s, "sockserv_datagrams_dropped_total", name, reason=reason)
        for reason in ("rate", "port", "bad_source", "busy", "amplification", "denied")}


@pytest.mark.parametrize("model", ["epoll", "thread"])
def test_drops_are_counted_by_reason(servers, model):
    server = start_udp(servers, "tcp://127.0.0.1:0/metrics", "udp://127.0.0.1:0/echo",
                       model=model, options=["--udp-rate", RATE, "-q"])
    host, port = udp_addr(server, "echo")
    name = f"udp://{host}:{port}/echo"
    with udp_socket() as flooder:
        for i in range(SENT):
            flooder.sendto(b"flood %d" % i, (host, port))
        time.sleep(0.05)
    try:
        own_port = udp_socket(bind=("127.0.0.2", port))
    except OSError as e:
        pytest.skip(f"cannot bind 127.0.0.2:{port} as a client: {e}")
    with own_port:
        own_port.sendto(b"loop me", (host, port))
        assert datagrams_within(own_port, 0.3) == []

    def accounted():
        f = udp_figures(server, name)
        return (f["received"] + f["rate"] == SENT and f["port"] == 1
                and f["sent"] == f["received"])

    assert wait_until(accounted, 5.0), udp_figures(server, name)
    f = udp_figures(server, name)
    # The burst, and what the rate refilled while the flood went out.
    assert 20 <= f["received"] < 40, f
    assert f["bad_source"] == f["busy"] == f["amplification"] == f["denied"] == 0, f
