"""
`make bench` runs bench/memory_scale.py and bench/chat_fanout.py too; their
--quick settings (a few hundred connections, half-second phases) run end to
end in seconds. memory_scale holds its idle connections with `sockserv bench
--hold`, so this also checks that the scripts and that mode agree.

The figures are not judged; what is: every connection asked for was held
on both sides, every round trip came back, and every chat line reached
every receiver exactly once and in order.
"""

import json
import os
import subprocess
import sys

from harness import BINARY, REPO_ROOT


def run_script(name, tmp_path, *args, timeout=240):
    out = tmp_path / name
    env = dict(os.environ, SOCKSERV=BINARY)
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / f"{name}.py"), "--quick",
                           "--out", str(out), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{name}.py --quick failed:\n{proc.stderr[-3000:]}"
    return out


def test_memory_quick_holds_every_connection_on_both_sides(tmp_path):
    out = run_script("memory_scale", tmp_path, "--models", "epoll,fork")
    memory = json.loads((out / "memory.json").read_text())["experiments"]["memory"]
    for run in memory["runs"]:
        assert run["status"] == "ok", run
        assert run["client"]["established"] == run["connections"], run["client"]
        assert run["server_held"] == run["connections"]
        if run["echo_first"]:
            assert run["echo"]["ok"] == run["connections"], run["echo"]
    assert (out / "memory.md").read_text().startswith("# sockserv: memory per idle connection")


def test_scale_quick_makes_every_round_trip(tmp_path):
    out = run_script("memory_scale", tmp_path, "--only", "scale19k,scale100k")
    experiments = json.loads((out / "scale.json").read_text())["experiments"]
    for name in ("scale19k", "scale100k"):
        for run in experiments[name]["runs"]:
            assert run["status"] == "ok", run
            assert run["established"] == run["asked"] == run["round_trips_ok"]
            assert sum(p["connections"] for p in run["per_process"]) == run["asked"]
    assert "| scale100k |" in (out / "scale.md").read_text()


def test_chat_fanout_quick_delivers_every_line_once_in_order(tmp_path):
    out = run_script("chat_fanout", tmp_path, "--models", "epoll")
    results = json.loads((out / "chat_fanout.json").read_text())
    [run] = results["runs"]
    assert run["status"] == "ok", run
    for name, phase in run["phases"].items():
        assert phase["exactly_once_in_order"], (name, phase)
        assert phase["deliveries"] == phase["deliveries_expected"] > 0
    assert (out / "chat_fanout.md").read_text().startswith("# sockserv: chat fan-out")
