"""
`make bench` in miniature: bench/run.py --smoke runs every experiment for
every model (UDP lengthy action, slow clients, echo throughput, and the
generator against the thread-per-connection client) for a fraction of a
second each, and writes the JSON, the Markdown tables and the plots.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import BINARY, CONCURRENT_MODELS, MODELS, REPO_ROOT

WARNINGS = ["-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes",
            "-Wmissing-prototypes"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    client = tmp / "threaded_client"
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-std=gnu11", "-D_GNU_SOURCE", "-O2", *WARNINGS,
                    str(REPO_ROOT / "bench" / "tools" / "threaded_client.c"), "-lpthread",
                    "-o", str(client)], check=True)
    out = tmp / "results"
    env = dict(os.environ, SOCKSERV=BINARY, THREADED_CLIENT=str(client))
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / "run.py"), "--smoke",
                           "--out", str(out)], env=env, capture_output=True, text=True,
                          timeout=300)
    return proc, out


def test_smoke_run_succeeds(smoke):
    proc, out = smoke
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "results.json").exists() and (out / "results.md").exists()


def test_every_model_ran_every_experiment(smoke):
    proc, out = smoke
    results = json.loads((out / "results.json").read_text())
    exp = results["experiments"]
    assert set(exp) == {"generator", "udp", "slow", "echo"}
    assert set(exp["udp"]["runs"]) == set(MODELS)
    assert set(exp["slow"]["runs"]) == set(MODELS)
    for model in MODELS:
        for conns in exp["echo"]["settings"]["connections"]:
            assert f"{model}/128/{conns}" in exp["echo"]["runs"]


def test_concurrent_models_answer_everyone(smoke):
    proc, out = smoke
    exp = json.loads((out / "results.json").read_text())["experiments"]
    for model in CONCURRENT_MODELS:
        udp = exp["udp"]["runs"][model]
        assert udp["status"] == "ok", (model, udp)
        assert udp["result"]["requests"] == exp["udp"]["settings"]["clients"]
        slow = exp["slow"]["runs"][model]
        assert slow["status"] == "ok", (model, slow)
        assert slow["result"]["requests"] >= exp["slow"]["settings"]["clients"]
        for key, run in exp["echo"]["runs"].items():
            if key.startswith(model + "/"):
                assert run["status"] == "ok", (key, run)
                lat = run["result"]["latency_us"]
                assert lat["min"] <= lat["p50"] <= lat["p99"] <= lat["max"]


def test_iterative_is_recorded_honestly(smoke):
    """One client at a time: the others' requests time out, and say so."""
    proc, out = smoke
    exp = json.loads((out / "results.json").read_text())["experiments"]
    slow = exp["slow"]["runs"]["iterative"]
    assert slow["status"] == "errors"
    assert slow["result"]["errors"]["timeout"] > 0
    assert exp["echo"]["runs"]["iterative/128/1"]["status"] == "ok"


def test_generator_comparison_is_recorded(smoke):
    proc, out = smoke
    gen = json.loads((out / "results.json").read_text())["experiments"]["generator"]
    assert gen["status"] == "ok", gen
    assert gen["threaded_client_requests_per_s"] > 0
    assert gen["bench_requests_per_s"] > 0


def test_tables_and_plots_are_written(smoke):
    proc, out = smoke
    text = (out / "results.md").read_text()
    for heading in ["## The generator is not the bottleneck", "## UDP lengthy action",
                    "## Slow clients", "## Echo throughput and latency"]:
        assert heading in text
    assert "| epoll | 128 B | 50 | ok |" in text
    # A test dependency (scripts/ensure-deps.sh test), so never a skip.
    assert shutil.which("gnuplot") is not None, (
        "gnuplot is not installed: scripts/ensure-deps.sh test installs gnuplot-nox")
    for png in ["echo_requests_per_s.png", "echo_p99_latency.png"]:
        data = (out / png).read_bytes()
        assert data.startswith(b"\x89PNG"), png
