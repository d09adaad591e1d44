"""
The metrics service reports what clients did, under every model, with
--workers (every worker counts into memory they share, so whichever worker
answers reports the sum) and with --threads: TCP clients accepted, the bytes
they sent and were sent, UDP datagrams both ways, the connections open now
(per listener and per worker and loop), and back to 0 once they close. The
answer is parsed by Prometheus's own parser.
"""

import pytest

from harness import MODELS, connect, echo_roundtrip, wait_until
from metrics_helpers import loop_series, scrape, value
from udp_helpers import request, start_udp, udp_addr, udp_socket

CLIENTS = 3
DATAGRAMS = 4

SETUPS = [(m, ()) for m in MODELS] + [
    ("epoll", ("--workers", "2")),
    ("epoll", ("--threads", "2")),
]


def setup_id(setup):
    model, options = setup
    return " ".join([model, *options])


def tcp_name(server, service):
    host, port = server.addr(service)
    return f"tcp://{host}:{port}/{service}"


@pytest.mark.parametrize("setup", SETUPS, ids=setup_id)
def test_counts_equal_the_traffic_made(servers, setup):
    model, options = setup
    server = start_udp(servers, "tcp://127.0.0.1:0/echo", "tcp://127.0.0.1:0/metrics",
                       "udp://127.0.0.1:0/echo", model=model, options=options)
    metrics = server.addr("metrics")
    echo = tcp_name(server, "echo")
    host, port = udp_addr(server, "echo")
    udp_echo = f"udp://{host}:{port}/echo"

    sent = 0
    for i in range(CLIENTS):
        payload = b"client %d " % i + bytes(range(256)) * (i + 1)
        with connect(server.addr("echo")) as c:
            assert echo_roundtrip(c, payload) == payload
        sent += len(payload)
    datagram_bytes = 0
    with udp_socket() as u:
        for i in range(DATAGRAMS):
            d = b"datagram %d" % i
            assert request(u, (host, port), d) == d
            datagram_bytes += len(d)

    # A close is counted once the server has seen it, and a reply a moment
    # after it left (by a process of its own, under fork).
    def settled():
        s = scrape(metrics)
        return (value(s, "sockserv_connections_closed_total", echo) == CLIENTS
                and value(s, "sockserv_datagrams_sent_total", udp_echo) == DATAGRAMS)

    assert wait_until(settled, 5.0), scrape(metrics)
    s = scrape(metrics)
    assert value(s, "sockserv_connections_accepted_total", echo) == CLIENTS
    assert value(s, "sockserv_connections_open", echo) == 0
    assert value(s, "sockserv_received_bytes_total", echo) == sent
    assert value(s, "sockserv_sent_bytes_total", echo) == sent
    for reason in ("denied", "not_allowed", "per_source", "connect_rate", "full"):
        assert value(s, "sockserv_connections_refused_total", echo, reason=reason) == 0
    for reason in ("idle", "slow_reader", "grace"):
        assert value(s, "sockserv_connections_cut_total", echo, reason=reason) == 0
    assert value(s, "sockserv_datagrams_received_total", udp_echo) == DATAGRAMS
    assert value(s, "sockserv_datagrams_sent_total", udp_echo) == DATAGRAMS
    assert value(s, "sockserv_received_bytes_total", udp_echo) == datagram_bytes
    assert value(s, "sockserv_sent_bytes_total", udp_echo) == datagram_bytes
    for reason in ("rate", "port", "bad_source", "busy", "amplification"):
        assert value(s, "sockserv_datagrams_dropped_total", udp_echo, reason=reason) == 0
    # The scrape's own connection is the one open now; the per-loop figures
    # add up to the same, labelled as the setup runs.
    assert value(s, "sockserv_connections_open", tcp_name(server, "metrics")) == 1
    loops = loop_series(s)
    assert sum(loops.values()) == 1, loops
    workers = {w for w, _ in loops}
    loop_numbers = {lp for _, lp in loops}
    if "--workers" in options:
        assert workers <= {"0", "1"}, loops
    else:
        assert workers == {"none"}, loops
    if model in ("iterative", "thread", "fork"):
        assert loop_numbers == {"none"}, loops
    else:
        assert loop_numbers <= ({"0", "1"} if "--threads" in options else {"0"}), loops

    if model == "iterative":
        return  # It serves one client at a time: none can stay open during a scrape.
    with connect(server.addr("echo")) as held:
        assert echo_roundtrip(held, b"held") == b"held"
        s = scrape(metrics)
        assert value(s, "sockserv_connections_open", echo) == 1
        assert sum(loop_series(s).values()) == 2, loop_series(s)
    assert wait_until(lambda: value(scrape(metrics), "sockserv_connections_open", echo) == 0,
                      5.0)
    assert server.alive(), server.describe()
