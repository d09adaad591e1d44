"""
`make bench` runs bench/balance.py and bench/rivals.py too; their --quick
settings run every experiment for a second or so and write the JSON and
Markdown. A script that broke (a renamed option, a changed JSON field)
would otherwise be found only at the next full benchmark run.

The figures are not judged (a loaded test machine makes them anything),
but what they must say is: under --balance reuseport every worker holds
clients of the burst, every sockserv server answered, and the user-space
share of each server's CPU time is a fraction.
"""

import json
import os
import subprocess
import sys

import pytest

from harness import BINARY, REPO_ROOT


def run_script(name, tmp_path, *args):
    out = tmp_path / name
    env = dict(os.environ, SOCKSERV=BINARY)
    env.pop("SOCKSERV_RIVALS", None)
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / f"{name}.py"), "--quick",
                           "--out", str(out), *args], env=env, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, f"{name}.py --quick failed:\n{proc.stderr[-3000:]}"
    with open(out / f"{name}.json") as f:
        results = json.load(f)
    assert (out / f"{name}.md").read_text().startswith("# "), f"{name}.md has no title"
    return results


def test_balance_quick_spreads_a_burst_under_reuseport(tmp_path):
    results = run_script("balance", tmp_path)
    burst = results["burst"]["reuseport"][0]
    per_worker = burst["clients_per_worker"]
    assert len(per_worker) == results["settings"]["burst_workers"], per_worker
    assert min(per_worker) > 0, f"a worker held none of the burst: {per_worker}"
    for section in ("burst", "busy_loop"):
        for mode, runs in results[section].items():
            assert runs[0].get("requests_per_s"), f"{section} {mode}: no request answered: {runs[0]}"
    for conns, modes in results["steady"].items():
        for mode, runs in modes.items():
            assert runs[0].get("requests_per_s"), f"steady {conns} {mode}: {runs[0]}"
            assert abs(sum(runs[0]["cpu_share_per_loop"]) - 1) < 0.05, runs[0]


def test_rivals_quick_measures_both_sockserv_kinds(tmp_path):
    results = run_script("rivals", tmp_path, "--skip-syscalls")
    names = set()
    for point in results["points"]:
        for name, s in point["servers"].items():
            names.add(name)
            assert (s["requests_per_s"] or 0) > 0, f"{name} at {point['connections']}: {s}"
            share = s["server_user_share"]
            assert share is None or 0 <= share <= 1, f"{name}: user share {share}"
    assert names == {"sockserv-epoll", "sockserv-uring"}, names
    capped = results["capped"]
    assert capped.get("skipped") or capped["points"], capped
