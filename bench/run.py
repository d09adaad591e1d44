#!/usr/bin/env python3
"""
The sockserv experiments (bench/README.md): for every model, start a server
pinned to one core, drive it with `sockserv bench` pinned to another, and
record what happened.

  udp      the UDP lengthy-action experiment: 20 clients, upper, 5 s delay
  slow     the slow-client experiment: 20 clients dribbling "Hello world N"
           a byte per 0.1 s at echo
  echo     echo throughput and latency at 1, 50, 500 and 5000 connections,
           128 B and 1 KiB messages
  generator  one bench thread against the thread-per-connection reference
           client (bench/tools/threaded_client.c), same server, same core

Results: results.json (everything, with each run's full bench JSON and the
command lines), results.md (the tables), echo_requests_per_s.png and
echo_p99_latency.png (gnuplot, when it is installed), in --out.

An experiment that cannot run (a server that will not start, a bench that
fails) is recorded as failed with the reason and the rest go on; the exit
status is 1 when anything failed, so `make bench` says so.

usage: bench/run.py [--smoke] [--out DIR] [--only udp,slow,echo,generator]
                    [--models iterative,fork,...] [--no-pin]
--smoke runs every experiment for a fraction of a second, for the tests.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.experiments import echo, generator, slow, udp  # noqa: E402
from bench.lib import machine as machine_info  # noqa: E402
from bench.lib.cores import CorePlan  # noqa: E402
from bench.lib.procfs import load_average  # noqa: E402
from bench.lib.report import log  # noqa: E402
from bench.lib.servers import stop_on_sigterm  # noqa: E402
from bench.lib.testbed import Testbed  # noqa: E402

SOCKSERV = os.environ.get("SOCKSERV") or str(REPO / "build" / "sockserv")
# The models sockserv has, in the order its --help lists them; this list is
# only the fallback should the help text change shape.
MODELS = ["iterative", "fork", "thread", "select", "poll", "epoll"]
# In the order they run; results.md shows them in this order too.
EXPERIMENTS = {"generator": generator, "udp": udp, "slow": slow, "echo": echo}


def discover_models():
    """Every model `sockserv serve --help` lists under --model."""
    try:
        text = subprocess.run([SOCKSERV, "serve", "--help"], capture_output=True, text=True,
                              timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return MODELS
    found, inside = [], False
    for line in text.splitlines():
        if "--model" in line:
            inside = True
            continue
        if inside:
            m = re.match(r"^\s{10,}([a-z0-9_]+)\s{2,}\S", line)
            if not m:
                break
            found.append(m.group(1))
    return found or MODELS


# Set by main(); --no-pin leaves placement to the scheduler.
PLAN = CorePlan(pin=False)


# -- Reporting ---------------------------------------------------------------

def machine():
    return {
        **machine_info.basics(),
        "server_cores": PLAN.server_text,
        "load_cores": PLAN.load_text,
        "load_average_at_start": load_average(),
        "busy_processes_at_start": machine_info.busy_processes(),
    }


def markdown(results):
    m = results["machine"]
    lines = [
        "# sockserv bench results",
        "",
        f"Run {results['generated']} on {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_mib']} MiB, Linux {m['kernel']}, descriptor limit {m['fd_limit']}. "
        + (f"Server pinned to core {m['server_cores']}, load to core {m['load_cores']}."
           if m["server_cores"] else "Server and load unpinned (--no-pin, one core or no taskset)."),
        f"Load average at start: {', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}."
        + (" Other processes busy at start: " + machine_info.busy_text(
            m["busy_processes_at_start"]) + "."
           if m["busy_processes_at_start"] else " Nothing else was busy at start.")
        + (" Smoke settings: a check of the scripts, not a measurement."
           if results["smoke"] else ""),
        "",
    ]
    for name, module in EXPERIMENTS.items():
        if name in results["experiments"]:
            lines += module.markdown(results["experiments"][name])
    return "\n".join(lines)


def plot(results, out_dir):
    """Writes echo.dat and draws the two PNGs; returns what went wrong, if anything."""
    exp = results["experiments"].get("echo")
    if not exp:
        return None
    sizes = exp["settings"]["sizes"]
    models = sorted({k.split("/")[0] for k in exp["runs"]}, key=MODELS.index)
    titles, styles = [], []
    # One block per model and size: connections, requests/s, p99 in ms.
    with open(out_dir / "echo.dat", "w") as f:
        for model in models:
            for size in sizes:
                points = []
                for conns in exp["settings"]["connections"]:
                    rec = exp["runs"].get(f"{model}/{size}/{conns}", {})
                    r = rec.get("result")
                    if not r or not r["requests"]:
                        continue
                    # A p99 of the answered requests says nothing when others
                    # timed out, so such runs are left out of the latency plot.
                    p99 = (f"{r['latency_us']['p99'] / 1000:.4f}" if rec["status"] == "ok"
                           else "NaN")
                    points.append(f"{conns} {r['requests_per_s']:.1f} {p99}")
                if not points:
                    continue
                label = f"{size // 1024}KiB" if size >= 1024 else f"{size}B"
                titles.append(f"{model}-{label}")
                styles.append(f"{MODELS.index(model) + 1}:{sizes.index(size) + 1}")
                f.write(f"# {model} {label}\n" + "\n".join(points) + "\n\n\n")
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return "gnuplot is not installed: no plots (scripts/ensure-deps.sh bench)"
    if not titles:
        return "no echo run succeeded: nothing to plot"
    terminals = subprocess.run([gnuplot, "-e", "set terminal"], capture_output=True, text=True)
    terminal = "pngcairo" if "pngcairo" in terminals.stdout + terminals.stderr else "png"
    variables = (f"terminal='{terminal}'; data='{out_dir / 'echo.dat'}'; outdir='{out_dir}'; "
                 f"titles='{' '.join(titles)}'; styles='{' '.join(styles)}'")
    proc = subprocess.run([gnuplot, "-e", variables, str(REPO / "bench" / "plot.gp")],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return f"gnuplot failed: {proc.stderr.strip()[-300:]}"
    return None


# -- Main ------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a quick check of the scripts")
    parser.add_argument("--out", default=str(REPO / "bench" / "results"))
    parser.add_argument("--only", default="udp,slow,echo,generator")
    parser.add_argument("--models", help="comma-separated (default: every model sockserv has)")
    parser.add_argument("--no-pin", action="store_true",
                        help="leave server and load unpinned (a machine shared with busy "
                             "processes: pinned, both must share a core with them)")
    args = parser.parse_args()
    global PLAN
    PLAN = CorePlan(pin=not args.no_pin)
    only = [e for e in args.only.split(",") if e]
    if not os.access(SOCKSERV, os.X_OK):
        parser.error(f"{SOCKSERV} is not built (make, or set SOCKSERV)")
    MODELS[:] = discover_models()
    models = [m for m in args.models.split(",") if m] if args.models else list(MODELS)
    for name in only:
        if name not in EXPERIMENTS:
            parser.error(f"unknown experiment {name!r} (use {', '.join(EXPERIMENTS)})")
    for model in models:
        if model not in MODELS:
            parser.error(f"unknown model {model!r} (use {', '.join(MODELS)})")
    # A stop (make's Ctrl-C, a kill) ends like Ctrl-C: servers are killed on
    # the way out, never left behind.
    stop_on_sigterm()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    results = {"generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "smoke": args.smoke, "machine": machine(), "experiments": {}}
    started = time.monotonic()
    testbed = Testbed(SOCKSERV, PLAN)
    for name, module in EXPERIMENTS.items():
        if name in only:
            cfg = module.SMOKE if args.smoke else module.FULL
            results["experiments"][name] = module.run(testbed, models, cfg)
    results["took_s"] = round(time.monotonic() - started, 1)

    problem = plot(results, out_dir)
    if problem:
        results["plot_problem"] = problem
        log(problem)
    with open(out_dir / "results.json", "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    with open(out_dir / "results.md", "w") as f:
        f.write(markdown(results))
    log(f"results in {out_dir} after {results['took_s']} s")

    failures = []
    for name, exp in results["experiments"].items():
        if exp.get("status") == "failed":
            failures.append(f"{name}: {exp.get('reason')}")
        for key, rec in exp.get("runs", {}).items():
            if rec["status"] == "failed":
                failures.append(f"{name} {key}: {rec.get('reason')}")
    for failure in failures:
        log(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
