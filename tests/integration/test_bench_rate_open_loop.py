"""
--rate is an open loop: requests start on a schedule, whatever the replies
do, so the rate achieved is the rate asked for while the server keeps up.
--connect-rate spreads the connections out in time.
"""

import json

import pytest

from harness import run_sockserv


def test_rate_is_held(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-q"])
    host, port = server.addr("echo")
    rc, out, err = run_sockserv(["bench", "-c", "10", "-d", "1s", "--rate", "500", "--json",
                                 f"tcp://{host}:{port}"], timeout=10)
    assert rc == 0, err
    result = json.loads(out)
    assert result["rate"] == 500
    assert result["requests_per_s"] == pytest.approx(500, rel=0.1)
    assert result["requests_failed"] == 0


def test_connect_rate_spreads_connections(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-q"])
    host, port = server.addr("echo")
    # At 40/s, a 300 ms run has time for about 12 of the 20 connections.
    rc, out, err = run_sockserv(["bench", "-c", "20", "-d", "300ms", "--connect-rate", "40",
                                 "--json", f"tcp://{host}:{port}"], timeout=10)
    assert rc == 0, err
    result = json.loads(out)
    assert 8 <= result["connections_made"] <= 15, result["connections_made"]
    assert result["connections_failed"] == 0
    assert result["connect_rate"] == 40
