"""
SIGUSR1 writes the metrics to the log, one line per listener (and one per
worker and loop with connections), and the server goes on serving. Under
--workers the supervisor writes the sum of every worker once, even when the
signal reaches the whole process group; under fork the connection
processes never write their own.
"""

import os
import re
import signal
import time

import pytest

from harness import MODELS, connect, echo_roundtrip, wait_until
from udp_helpers import request, start_udp, udp_addr, udp_socket

SETUPS = [(m, ()) for m in MODELS] + [
    ("epoll", ("--workers", "2")),
    ("epoll", ("--threads", "2")),
]
CLIENTS = 4


def setup_id(setup):
    model, options = setup
    return " ".join([model, *options])


def dump_lines(server, name):
    return [line for line in server.stderr_text().splitlines()
            if re.search(rf"metrics {re.escape(name)}: ", line)]


@pytest.mark.parametrize("setup", SETUPS, ids=setup_id)
def test_sigusr1_dumps_the_figures_once_and_the_server_serves_on(servers, setup):
    model, options = setup
    server = start_udp(servers, "tcp://127.0.0.1:0/echo", "udp://127.0.0.1:0/echo", model=model,
                       options=options)
    host, port = server.addr("echo")
    echo = f"tcp://{host}:{port}/echo"
    uhost, uport = udp_addr(server, "echo")
    udp_echo = f"udp://{uhost}:{uport}/echo"
    for i in range(CLIENTS):
        with connect((host, port)) as c:
            assert echo_roundtrip(c, b"x" * 100) == b"x" * 100
    with udp_socket() as u:
        assert request(u, (uhost, uport), b"ping") == b"ping"

    want = (rf"metrics {re.escape(echo)}: open 0, accepted {CLIENTS}, refused 0, cut 0, "
            rf"bytes in {100 * CLIENTS} out {100 * CLIENTS}$")
    want_udp = r"datagrams in 1 out 1, dropped 0, bytes in 4 out 4$"

    def shows_everything():
        return (re.search(want, dump_lines(server, echo)[-1])
                and re.search(want_udp, dump_lines(server, udp_echo)[-1]))

    # A close, or a reply, is counted a moment after the client sees it:
    # signal until the lines show everything.
    deadline = time.monotonic() + 5.0
    while True:
        before = len(dump_lines(server, echo))
        # The whole group: workers and connection processes get it too.
        os.killpg(server.pid, signal.SIGUSR1)
        assert wait_until(lambda: len(dump_lines(server, udp_echo)) > before, 5.0), \
            server.describe()
        if shows_everything() or time.monotonic() > deadline:
            break
    assert shows_everything(), (dump_lines(server, echo), dump_lines(server, udp_echo))
    # One line per listener per signal: nobody else dumped.
    time.sleep(0.2)
    assert len(dump_lines(server, echo)) == len(dump_lines(server, udp_echo)), \
        server.stderr_text()
    signals = len(dump_lines(server, echo))
    assert signals <= 50 and len(dump_lines(server, echo)) == signals

    assert server.alive(), server.describe()
    with connect((host, port)) as c:
        assert echo_roundtrip(c, b"still here") == b"still here"
