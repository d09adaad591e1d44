"""
sockserv bench against the real echo server under every model: a short run
of the echo throughput experiment (bench/run.py) at 128 B and 1 KiB. The
JSON it prints is sane: requests were made and checked, no reply differed,
the percentiles are in order, and the counts agree with each other.
"""

import json

import pytest

from harness import CONCURRENT_MODELS, MODELS, run_sockserv


def check_sane(result, message_bytes):
    assert result["schema"] == "sockserv-bench/1"
    assert result["requests"] > 0, result
    assert result["errors"]["mismatch"] == 0, result
    assert result["requests_failed"] == sum(result["errors"].values())
    lat = result["latency_us"]
    order = [lat["min"], lat["p50"], lat["p90"], lat["p99"], lat["p99_9"], lat["max"]]
    assert order == sorted(order), f"percentiles out of order: {lat}"
    assert 0 < lat["min"] <= lat["mean"] <= lat["max"]
    assert result["message_bytes"] == message_bytes
    # Every ok request wrote its message and read it back.
    assert result["bytes_received"] >= result["requests"] * message_bytes
    assert result["requests_per_s"] == pytest.approx(
        result["requests"] / result["elapsed_s"], rel=0.01)


@pytest.mark.parametrize("size", [128, 1024])
@pytest.mark.parametrize("model", MODELS)
def test_echo_run_reports_sane_json(servers, model, size):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["-q"])
    host, port = server.addr("echo")
    # iterative serves one connection at a time; more would only time out.
    connections = 1 if model == "iterative" else 20
    rc, out, err = run_sockserv(
        ["bench", "-c", str(connections), "-d", "500ms", "-s", str(size), "--json",
         f"tcp://{host}:{port}"], timeout=10)
    assert rc == 0, err
    result = json.loads(out)
    check_sane(result, size)
    assert result["connections_made"] == connections
    assert result["requests_failed"] == 0, result
    assert result["duration_s"] == 0.5
    assert 0.5 <= result["elapsed_s"] < 1.5


@pytest.mark.parametrize("model", CONCURRENT_MODELS)
def test_pipelined_threads_run_is_checked_byte_for_byte(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["-q"])
    host, port = server.addr("echo")
    rc, out, err = run_sockserv(
        ["bench", "-c", "8", "-t", "2", "-p", "4", "-d", "500ms", "--json",
         f"tcp://{host}:{port}/echo"], timeout=10)
    assert rc == 0, err
    result = json.loads(out)
    check_sane(result, 128)
    assert result["threads"] == 2 and result["pipeline"] == 4
    assert result["requests_failed"] == 0, result


def test_summary_for_people_names_every_figure(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-q"])
    host, port = server.addr("echo")
    rc, out, err = run_sockserv(["bench", "-c", "2", "-d", "300ms", f"tcp://{host}:{port}"])
    assert rc == 0, err
    for word in ["req/s", "MB/s", "min", "p50", "p90", "p99", "p99.9", "max",
                 "2 made, 0 failed", "timeout 0", "mismatch 0", "reset 0", "refused 0"]:
        assert word in out, f"{word!r} missing from the summary:\n{out}"
    # Not a terminal: no live line on stderr.
    assert err == ""
