"""
Ctrl-C (SIGINT) or SIGTERM ends a bench run early: no new requests start,
those in flight finish, and the summary of what was measured is printed.
"""

import json
import signal
import subprocess
import time

import pytest

from harness import BINARY


@pytest.mark.parametrize("signo", [signal.SIGINT, signal.SIGTERM])
def test_signal_ends_the_run_with_a_summary(servers, signo):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-q"])
    host, port = server.addr("echo")
    proc = subprocess.Popen([BINARY, "bench", "-c", "4", "-t", "2", "-d", "30s", "--json",
                             f"tcp://{host}:{port}"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    time.sleep(0.8)
    start = time.monotonic()
    proc.send_signal(signo)
    try:
        out, err = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("bench kept running after the signal")
    assert time.monotonic() - start < 2
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["requests"] > 0
    assert result["requests_failed"] == 0
    assert 0.3 < result["elapsed_s"] < 3
