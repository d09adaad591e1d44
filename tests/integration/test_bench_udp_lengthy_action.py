"""
The UDP lengthy-action experiment in small, against the real server: twenty
clients each send one line to upper over UDP and wait for it uppercased.
Under every concurrent model all twenty are answered about one delay after
they asked; under iterative they are answered one delay after another.
"""

import json
import time

import pytest

from harness import CONCURRENT_MODELS, run_sockserv

CLIENTS = 20
DELAY_S = 0.3


def start_udp_upper(servers, model):
    """Starts upper on UDP; returns its URL. The announcement is read here,
    as the harness knows TCP listeners only."""
    server = servers.start("udp://127.0.0.1:0/upper", model=model,
                           options=["-q", "--delay", f"{int(DELAY_S * 1000)}ms"],
                           expect_lines=0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        server.collect_more_listening(0.05)
        for line in server.stdout_lines:
            if line.startswith("listening udp://"):
                return line.split()[1]
    pytest.fail(f"no UDP listener announced: {server.stdout_lines!r}\n{server.describe()}")


def bench(url, timeout):
    start = time.monotonic()
    rc, out, err = run_sockserv(
        ["bench", "-c", str(CLIENTS), "-n", str(CLIENTS), "--expect", "upper", "-m",
         "lengthy action {n}", "--timeout", f"{timeout}s", "--json", url], timeout=timeout + 10)
    return rc, json.loads(out), err, time.monotonic() - start


@pytest.mark.parametrize("model", CONCURRENT_MODELS)
def test_twenty_udp_clients_answered_together(servers, model):
    url = start_udp_upper(servers, model)
    rc, result, err, took = bench(url, timeout=5)
    assert rc == 0, err
    assert result["transport"] == "udp"
    assert result["requests"] == CLIENTS, result["errors"]
    assert result["latency_us"]["min"] >= DELAY_S * 1e6 * 0.9
    assert result["latency_us"]["max"] < DELAY_S * 1e6 * 4, "not served at once"
    assert took < DELAY_S * 4 + 1


def test_iterative_answers_udp_clients_one_after_another(servers):
    url = start_udp_upper(servers, "iterative")
    rc, result, err, took = bench(url, timeout=3)
    assert rc == 0, err
    lat = result["latency_us"]
    # Answers come a delay apart: the last one several delays after the first.
    assert lat["max"] >= lat["min"] + 3 * DELAY_S * 1e6
    assert result["requests"] + result["errors"]["timeout"] == CLIENTS
