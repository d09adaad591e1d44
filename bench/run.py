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
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.lib import machine as machine_info  # noqa: E402
from bench.lib.cores import CorePlan  # noqa: E402
from bench.lib.durations import seconds  # noqa: E402
from bench.lib.loadgen import failed, run_bench  # noqa: E402
from bench.lib.procfs import load_average  # noqa: E402
from bench.lib.report import fmt_us, log  # noqa: E402
from bench.lib.servers import MeasuredServer, stop_on_sigterm  # noqa: E402

SOCKSERV = os.environ.get("SOCKSERV") or str(REPO / "build" / "sockserv")
THREADED_CLIENT = os.environ.get("THREADED_CLIENT") or str(
    REPO / "build" / "bench" / "threaded_client")

# The models sockserv has, in the order its --help lists them; this list is
# only the fallback should the help text change shape.
MODELS = ["iterative", "fork", "thread", "select", "poll", "epoll"]
EXPERIMENTS = ["udp", "slow", "echo", "generator"]
# sockserv caps select below FD_SETSIZE (1024): 960 connections at most.
SELECT_LIMIT = 960
START_TIMEOUT = 10.0


# -- Settings: the full run and its smoke-sized shadow ---------------------

FULL = {
    "udp": {"clients": 20, "delay": "5s", "timeout": "30s"},
    "slow": {"clients": 20, "pause": "100ms", "duration": "8s", "timeout": "5s"},
    # Thousands of connections take the fork and thread servers seconds to
    # take in (a process or thread each, all on one core), so the largest
    # runs warm up longer: the table is of the steady state, not the ramp.
    # Each point is the best of three runs, each against a fresh server, so
    # one disturbed run on a shared machine does not make the plot.
    "echo": {"connections": [1, 50, 500, 5000], "sizes": [128, 1024], "duration": "3s",
             "warmup": "500ms", "warmup_from_1000": "3s", "timeout": "2s", "repeats": 3},
    "generator": {"connections": 50, "seconds": 5, "repeats": 3},
}
SMOKE = {
    "udp": {"clients": 20, "delay": "200ms", "timeout": "3s"},
    "slow": {"clients": 20, "pause": "5ms", "duration": "400ms", "timeout": "1s"},
    "echo": {"connections": [1, 50], "sizes": [128], "duration": "300ms", "warmup": "0",
             "warmup_from_1000": "0", "timeout": "1s", "repeats": 1},
    "generator": {"connections": 10, "seconds": 1, "repeats": 1},
}


# -- Cores -----------------------------------------------------------------

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


# -- Processes -------------------------------------------------------------

def start_server(model, listener, options=()):
    """A `sockserv serve` process pinned to the server cores; use with `with`."""
    argv = [SOCKSERV, "serve", "-q", "-m", model, *options, listener]
    return MeasuredServer(argv, PLAN, start_timeout=START_TIMEOUT)


def run_tool(argv, limit):
    """Runs a load generator pinned to the load cores: (rc, stdout, stderr, cpu s)."""
    argv = PLAN.on_load_cores(argv)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=limit)
    except subprocess.TimeoutExpired:
        return None, "", f"still running after {limit:.0f}s", 0.0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.returncode, proc.stdout, proc.stderr, cpu


def bench(url, args, limit):
    """One `sockserv bench --json` run on the load cores: a record with its status."""
    return run_bench(SOCKSERV, url, args, limit, PLAN, cpu_key="cpu_s")


def best_run(runs):
    """The run with the most requests/s, with every run's figure beside it.
    Other work on the machine only ever slows a run down, so the best of a
    few is the nearest to what the model does undisturbed; a run that failed
    outright counts as 0 requests/s."""
    def rps(run):
        return run.get("result", {}).get("requests_per_s", 0)

    best = max(runs, key=rps)
    chosen = dict(best)
    if len(runs) > 1:
        chosen["repeats_requests_per_s"] = [round(rps(r), 1) for r in runs]
        chosen["repeats"] = [r for r in runs if r is not best]
    return chosen


# -- The experiments ---------------------------------------------------------

def experiment_udp(models, cfg):
    runs = {}
    for model in models:
        try:
            with start_server(model, "udp://127.0.0.1:0/upper", ["--delay", cfg["delay"]]) as server:
                record = bench(server.url, [
                    "-c", str(cfg["clients"]), "-n", str(cfg["clients"]), "--expect", "upper",
                    "-m", "lengthy action {n}", "--timeout", cfg["timeout"]],
                    limit=seconds(cfg["timeout"]) + 30)
        except RuntimeError as e:
            record = failed(f"server did not start: {e}")
        runs[model] = record
        log(f"udp    {model:9} {summary(record)}")
    return {"settings": cfg, "runs": runs}


def experiment_slow(models, cfg):
    runs = {}
    for model in models:
        try:
            with start_server(model, "tcp://127.0.0.1:0/echo") as server:
                record = bench(server.url, [
                    "-c", str(cfg["clients"]), "-d", cfg["duration"], "--dribble", cfg["pause"],
                    "-m", "Hello world {n}", "--timeout", cfg["timeout"]],
                    limit=seconds(cfg["duration"]) + seconds(cfg["timeout"]) + 30)
        except RuntimeError as e:
            record = failed(f"server did not start: {e}")
        runs[model] = record
        log(f"slow   {model:9} {summary(record)}")
    return {"settings": cfg, "runs": runs}


def experiment_echo(models, cfg):
    runs = {}
    for model in models:
        for size in cfg["sizes"]:
            for conns in cfg["connections"]:
                key = f"{model}/{size}/{conns}"
                options = []
                # thread and fork serve 1024 at once by default; let them try
                # them all, so the table shows their cost rather than the cap.
                if model in ("thread", "fork") and conns > 1024:
                    options = ["--max-conns", str(conns + 100)]
                warmup = cfg["warmup_from_1000"] if conns >= 1000 else cfg["warmup"]
                repeats = []
                for _ in range(cfg["repeats"]):
                    try:
                        with start_server(model, "tcp://127.0.0.1:0/echo", options) as server:
                            run = bench(server.url, [
                                "-c", str(conns), "-t", "1", "-s", str(size),
                                "-d", cfg["duration"], "--warmup", warmup,
                                "--timeout", cfg["timeout"]],
                                limit=seconds(cfg["duration"]) + seconds(warmup) +
                                seconds(cfg["timeout"]) + 60)
                            run["server_options"] = options
                    except RuntimeError as e:
                        run = failed(f"server did not start: {e}")
                    repeats.append(run)
                record = best_run(repeats)
                if model == "select" and conns > SELECT_LIMIT and record["status"] != "ok":
                    record["status"] = "limit"
                    record["reason"] = (f"select watches descriptors below FD_SETSIZE (1024): "
                                        f"sockserv serves {SELECT_LIMIT} at most, the rest wait")
                runs[key] = record
                log(f"echo   {model:9} {size:5} B {conns:5} conns  {summary(record)}")
    return {"settings": cfg, "runs": runs}


def experiment_generator(cfg):
    """One bench thread and the thread-per-connection client, same server."""
    conns, secs = cfg["connections"], cfg["seconds"]
    rounds = []
    if not os.access(THREADED_CLIENT, os.X_OK):
        return {"settings": cfg, **failed(f"{THREADED_CLIENT} not built (make bench)")}
    try:
        with start_server("epoll", "tcp://127.0.0.1:0/echo") as server:
            host_port = server.url.split("//")[1].rsplit("/", 1)[0]
            host, port = host_port.rsplit(":", 1)
            for _ in range(cfg["repeats"]):
                argv = [THREADED_CLIENT, "-c", str(conns), "-d", str(secs), host, port]
                rc, out, err, cpu = run_tool(argv, secs + 30)
                try:
                    threaded = json.loads(out)
                except ValueError:
                    threaded = {"requests_per_s": 0, "error": err.strip()[-300:]}
                threaded["cpu_s"] = round(cpu, 3)
                threaded["command"] = " ".join(PLAN.on_load_cores(argv))
                ours = bench(server.url, ["-c", str(conns), "-t", "1", "-d", f"{secs}s"],
                             limit=secs + 30)
                rounds.append({"threaded_client": threaded, "bench": ours})
    except RuntimeError as e:
        return {"settings": cfg, **failed(f"server did not start: {e}")}

    def median(values):
        values = sorted(values)
        return values[len(values) // 2] if values else 0

    threaded_rps = median([r["threaded_client"].get("requests_per_s", 0) for r in rounds])
    bench_rps = median([r["bench"].get("result", {}).get("requests_per_s", 0) for r in rounds])
    measured = threaded_rps > 0 and bench_rps > 0
    out = {"settings": cfg, "rounds": rounds, "threaded_client_requests_per_s": threaded_rps,
           "bench_requests_per_s": bench_rps,
           "bench_over_threaded": round(bench_rps / threaded_rps, 3) if threaded_rps else None,
           "bench_keeps_up": measured and bench_rps >= threaded_rps,
           "status": "ok" if measured else "failed"}
    if not measured:
        out["reason"] = "a load generator made no request; see rounds"
    log(f"generator  threaded client {threaded_rps:.0f} req/s, bench {bench_rps:.0f} req/s")
    return out


# -- Reporting ---------------------------------------------------------------

def summary(record):
    if record["status"] == "failed" and "result" not in record:
        return f"FAILED: {record['reason']}"
    r = record["result"]
    lat = r["latency_us"] or {}
    errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items() if v) or "no errors"
    return (f"{record['status']:6} {r['requests_per_s']:10.0f} req/s  "
            f"p99 {fmt_us(lat.get('p99'))}  {errors}")


def machine():
    return {
        **machine_info.basics(),
        "server_cores": PLAN.server_text,
        "load_cores": PLAN.load_text,
        "load_average_at_start": load_average(),
        "busy_processes_at_start": machine_info.busy_processes(),
    }


def errors_text(r):
    parts = [f"{v} {k}" for k, v in r["errors"].items() if v]
    return ", ".join(parts) if parts else "0"


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
    exp = results["experiments"]
    if "generator" in exp:
        g = exp["generator"]
        lines += ["## The generator is not the bottleneck", ""]
        if g.get("rounds"):
            s = g["settings"]
            lines += [
                f"Echo, 128 B, {s['connections']} connections, {s['seconds']} s, epoll server; "
                f"median of {s['repeats']} rounds. Both clients on the same core.",
                "",
                "| load generator | requests/s | CPU s per 100k requests |",
                "|---|---:|---:|",
            ]
            for name, rps_key, pick in [
                    ("threaded_client (a thread per connection)", "threaded_client_requests_per_s",
                     lambda r: (r["threaded_client"].get("requests", 0),
                                r["threaded_client"]["cpu_s"])),
                    ("sockserv bench, one thread", "bench_requests_per_s",
                     lambda r: (r["bench"].get("result", {}).get("requests", 0),
                                r["bench"].get("cpu_s", 0)))]:
                reqs = sum(pick(r)[0] for r in g["rounds"])
                cpu = sum(pick(r)[1] for r in g["rounds"])
                per = f"{cpu / reqs * 1e5:.2f}" if reqs else "-"
                lines.append(f"| {name} | {g[rps_key]:.0f} | {per} |")
            verdict = ("one bench thread keeps up with the threaded client"
                       if g["bench_keeps_up"] else
                       "one bench thread did NOT keep up with the threaded client")
            lines += ["", f"Result: {verdict} ({g['bench_over_threaded']}x).", ""]
        else:
            lines += [f"FAILED: {g.get('reason')}", ""]
    if "udp" in exp:
        s = exp["udp"]["settings"]
        lines += [
            "## UDP lengthy action",
            "",
            f"{s['clients']} clients each send one datagram to upper (delay {s['delay']}) "
            f"and wait up to {s['timeout']} for the answer.",
            "",
            "| model | status | answered | first answer | median | last answer | errors | run took |",
            "|---|---|---:|---:|---:|---:|---|---:|",
        ]
        for model, rec in exp["udp"]["runs"].items():
            lines.append(row_udp(model, rec, s["clients"]))
        lines.append("")
    if "slow" in exp:
        s = exp["slow"]["settings"]
        lines += [
            "## Slow clients",
            "",
            f"{s['clients']} TCP clients each write \"Hello world N\" to echo a byte per "
            f"{s['pause']}, for {s['duration']} (request timeout {s['timeout']}).",
            "",
            "| model | status | requests answered | p50 | max | errors |",
            "|---|---|---:|---:|---:|---|",
        ]
        for model, rec in exp["slow"]["runs"].items():
            lines.append(row_slow(model, rec))
        lines.append("")
    if "echo" in exp:
        s = exp["echo"]["settings"]
        lines += [
            "## Echo throughput and latency",
            "",
            f"Best of {s['repeats']} runs by requests/s, each against a fresh server "
            "(all three are in results.json). "
            f"One bench thread, closed loop, pipeline 1, {s['duration']} after "
            f"{s['warmup']} warmup ({s['warmup_from_1000']} from 1000 connections), "
            f"request timeout {s['timeout']}. thread and fork get --max-conns above 1024 "
            "where the run needs it.",
            "",
            "| model | message | connections | status | requests/s | MB/s | p50 | p99 | p99.9 | max | errors |",
            "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for key, rec in exp["echo"]["runs"].items():
            model, size, conns = key.split("/")
            lines.append(row_echo(model, size, conns, rec))
        notes = sorted({rec["reason"] for rec in exp["echo"]["runs"].values()
                        if rec["status"] in ("limit", "failed") and rec.get("reason")})
        if notes:
            lines += [""] + [f"- {n}" for n in notes]
        lines += ["", "![requests/s](echo_requests_per_s.png)", "",
                  "![p99 latency](echo_p99_latency.png)", ""]
    return "\n".join(lines)


def row_udp(model, rec, clients):
    if "result" not in rec:
        return f"| {model} | failed: {rec['reason']} | | | | | | |"
    r = rec["result"]
    lat = r["latency_us"] or {}
    return (f"| {model} | {rec['status']} | {r['requests']} of {clients} | "
            f"{fmt_us(lat.get('min'))} | {fmt_us(lat.get('p50'))} | {fmt_us(lat.get('max'))} | "
            f"{errors_text(r)} | {rec['wall_s']:.1f} s |")


def row_slow(model, rec):
    if "result" not in rec:
        return f"| {model} | failed: {rec['reason']} | | | | |"
    r = rec["result"]
    lat = r["latency_us"] or {}
    return (f"| {model} | {rec['status']} | {r['requests']} | {fmt_us(lat.get('p50'))} | "
            f"{fmt_us(lat.get('max'))} | {errors_text(r)} |")


def row_echo(model, size, conns, rec):
    label = f"{int(size) // 1024} KiB" if int(size) >= 1024 else f"{size} B"
    if "result" not in rec:
        return f"| {model} | {label} | {conns} | failed: {rec['reason']} | | | | | | | |"
    r = rec["result"]
    lat = r["latency_us"] or {}
    return (f"| {model} | {label} | {conns} | {rec['status']} | {r['requests_per_s']:.0f} | "
            f"{r['mb_per_s']:.1f} | {fmt_us(lat.get('p50'))} | {fmt_us(lat.get('p99'))} | "
            f"{fmt_us(lat.get('p99_9'))} | {fmt_us(lat.get('max'))} | {errors_text(r)} |")


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
    parser.add_argument("--only", default=",".join(EXPERIMENTS))
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
    settings = SMOKE if args.smoke else FULL
    # A stop (make's Ctrl-C, a kill) ends like Ctrl-C: servers are killed on
    # the way out, never left behind.
    stop_on_sigterm()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    results = {"generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "smoke": args.smoke, "machine": machine(), "experiments": {}}
    started = time.monotonic()
    if "generator" in only:
        results["experiments"]["generator"] = experiment_generator(settings["generator"])
    if "udp" in only:
        results["experiments"]["udp"] = experiment_udp(models, settings["udp"])
    if "slow" in only:
        results["experiments"]["slow"] = experiment_slow(models, settings["slow"])
    if "echo" in only:
        results["experiments"]["echo"] = experiment_echo(models, settings["echo"])
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
