"""
-n makes exactly that many requests, split over threads and connections,
and the run ends as soon as they are answered.
"""

import json

import pytest

from harness import run_sockserv


@pytest.mark.parametrize("threads,connections,pipeline", [(1, 1, 1), (1, 7, 3), (3, 10, 2)])
def test_exactly_n_requests_are_made(servers, threads, connections, pipeline):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-q"])
    host, port = server.addr("echo")
    rc, out, err = run_sockserv(
        ["bench", "-n", "1000", "-t", str(threads), "-c", str(connections),
         "-p", str(pipeline), "-s", "64", "--json", f"tcp://{host}:{port}"], timeout=10)
    assert rc == 0, err
    result = json.loads(out)
    assert result["requests"] == 1000
    assert result["requests_failed"] == 0
    assert result["bytes_sent"] == 1000 * 64
    assert result["bytes_received"] == 1000 * 64
    assert result["duration_s"] is None and result["requests_limit"] == 1000
    assert result["latency_us"]["max"] < 1e6


def test_warmup_requests_are_not_counted(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-q"])
    host, port = server.addr("echo")
    rc, out, err = run_sockserv(
        ["bench", "-n", "200", "-c", "2", "--warmup", "300ms", "--json",
         f"tcp://{host}:{port}"], timeout=10)
    assert rc == 0, err
    result = json.loads(out)
    assert result["requests"] == 200
    assert result["warmup_s"] == 0.3
    # Bytes are counted from the end of the warmup: the measured requests,
    # plus at most the rest of a message each connection was writing then.
    assert 200 * 128 <= result["bytes_sent"] <= 202 * 128
