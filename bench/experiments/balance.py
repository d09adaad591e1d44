"""--balance reuseport against --balance shared (bench/balance.py says what
each of the three experiments does): burst, steady and busy loop, each run
for both modes, interleaved, over the rounds. Its settings, its run, and its
rows and Markdown."""

import threading
import time

from bench.lib import machine, procfs, report, servers
from bench.lib.cores import DEFAULT as CORES
from bench.lib.cores import CorePlan
from bench.lib.durations import seconds
from bench.lib.loadgen import run_bench as run_bench_on

# -- Settings -------------------------------------------------------------------

FULL = {"rounds": 3, "duration": "3s", "warmup": "500ms", "burst_connections": 2000,
        "burst_workers": 4, "steady_connections": [50, 1000], "light_connections": 100}
QUICK = {"rounds": 1, "duration": "1s", "warmup": "200ms", "burst_connections": 400,
         "burst_workers": 4, "steady_connections": [50], "light_connections": 20}
MODES = ["reuseport", "shared"]


# The runs of more than one loop leave placement to the scheduler.
UNPINNED = CorePlan(pin=False)


# -- Run ------------------------------------------------------------------------

def placement(pin):
    return CORES if pin else UNPINNED


def serve(sockserv, mode, split, count, pin):
    return servers.MeasuredServer([sockserv, "serve", "-q", "-m", "epoll", split, str(count),
                                   "--balance", mode, "tcp://127.0.0.1:0/echo"], placement(pin))


def run_bench(sockserv, url, args, limit, pin):
    return run_bench_on(sockserv, url, args, limit, placement(pin))


def bench_in_background(sockserv, url, args, limit, pin):
    """Runs run_bench on a thread; returns (thread, holder of its record)."""
    holder = {}

    def run():
        try:
            holder["rec"] = run_bench(sockserv, url, args, limit=limit, pin=pin)
        except (OSError, RuntimeError) as e:
            holder["rec"] = {"status": "failed", "reason": f"bench did not run: {e}"}
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, holder


def summary(rec):
    r = rec.get("result") or {}
    return {"requests_per_s": r.get("requests_per_s"),
            "p99_us": (r.get("latency_us") or {}).get("p99"),
            "errors": sum((r.get("errors") or {}).values()) if r else None,
            "status": rec.get("status", "ok"), "reason": rec.get("reason"),
            "command": rec.get("command")}


def burst(sockserv, mode, cfg):
    duration = seconds(cfg["duration"])
    with serve(sockserv, mode, "--workers", cfg["burst_workers"], pin=True) as server:
        workers = []
        deadline = time.monotonic() + 5
        while len(workers) < cfg["burst_workers"] and time.monotonic() < deadline:
            workers = procfs.child_pids(server.pid)
            time.sleep(0.05)
        t, holder = bench_in_background(sockserv, server.url, [
            "-c", str(cfg["burst_connections"]), "-s", "128", "-d", cfg["duration"],
            "--timeout", "2s"], limit=duration + 60, pin=True)
        # Counted once every client is in (the bench's duration includes
        # connecting), well before the run ends and they close.
        held = []
        deadline = time.monotonic() + duration * 0.8
        while time.monotonic() < deadline:
            held = sorted((procfs.socket_fd_count(w) - 1 for w in workers), reverse=True)
            if sum(held) >= cfg["burst_connections"]:
                break
            time.sleep(0.05)
        t.join()
    out = summary(holder["rec"])
    out["clients_per_worker"] = held
    out["workers_found"] = len(workers)
    return out


def steady(sockserv, mode, conns, cfg):
    duration, warmup = seconds(cfg["duration"]), seconds(cfg["warmup"])
    with serve(sockserv, mode, "--threads", 2, pin=False) as server:
        time.sleep(0.2)
        t, holder = bench_in_background(sockserv, server.url, [
            "-c", str(conns), "-s", "128", "-d", cfg["duration"], "--warmup", cfg["warmup"],
            "--timeout", "2s"], limit=duration + warmup + 60, pin=False)
        time.sleep(warmup)
        before = procfs.thread_cpu_ticks(server.pid)
        t.join()
        after = procfs.thread_cpu_ticks(server.pid)
    used = sorted((after.get(tid, n) - n for tid, n in before.items()), reverse=True)
    total = sum(used) or 1
    out = summary(holder["rec"])
    # Every thread is a loop (epoll adds none of its own), idle ones too.
    out["cpu_share_per_loop"] = [round(u / total, 2) for u in used]
    return out


def busy_loop(sockserv, mode, cfg):
    duration, warmup = seconds(cfg["duration"]), seconds(cfg["warmup"])
    with serve(sockserv, mode, "--threads", 2, pin=False) as server:
        time.sleep(0.2)
        heavy_s = duration + warmup + 3
        heavy, heavy_holder = bench_in_background(sockserv, server.url, [
            "-c", "1", "-s", "65536", "-p", "8", "-d", f"{heavy_s}s", "--timeout", "5s"],
            limit=heavy_s + 60, pin=False)
        time.sleep(1.0)  # The heavy client is connected and streaming.
        rec = run_bench(sockserv, server.url, [
            "-c", str(cfg["light_connections"]), "-s", "128", "-d", cfg["duration"],
            "--warmup", cfg["warmup"], "--timeout", "2s"], limit=duration + warmup + 60,
            pin=False)
        heavy.join()
    out = summary(rec)
    out["heavy"] = summary(heavy_holder["rec"])
    return out


def guarded(experiment, *args):
    """An experiment's record, or a failed one if its server would not start."""
    try:
        return experiment(*args)
    except (OSError, RuntimeError) as e:
        return {"status": "failed", "reason": str(e), "clients_per_worker": [],
                "cpu_share_per_loop": [], "heavy": {}}


def run(sockserv, cfg):
    """Every round of every experiment, both modes interleaved: the results'
    burst, steady and busy_loop parts."""
    results = {"burst": {m: [] for m in MODES},
               "steady": {str(c): {m: [] for m in MODES} for c in cfg["steady_connections"]},
               "busy_loop": {m: [] for m in MODES}}
    for _ in range(cfg["rounds"]):
        for mode in MODES:
            r = guarded(burst, sockserv, mode, cfg)
            results["burst"][mode].append(r)
            report.log(f"balance burst {mode:9} per worker {r['clients_per_worker']} "
                       f"{r.get('requests_per_s') or 0:,.0f} req/s {r.get('reason') or ''}")
        for conns in cfg["steady_connections"]:
            for mode in MODES:
                r = guarded(steady, sockserv, mode, conns, cfg)
                results["steady"][str(conns)][mode].append(r)
                report.log(f"balance steady {conns:5} {mode:9} "
                           f"{r.get('requests_per_s') or 0:,.0f} "
                           f"req/s p99 {report.fmt_us(r.get('p99_us'))} loops "
                           f"{r['cpu_share_per_loop']} {r.get('reason') or ''}")
        for mode in MODES:
            r = guarded(busy_loop, sockserv, mode, cfg)
            results["busy_loop"][mode].append(r)
            report.log(f"balance busy-loop {mode:9} light "
                       f"{r.get('requests_per_s') or 0:,.0f} "
                       f"req/s p99 {report.fmt_us(r.get('p99_us'))} {r.get('reason') or ''}")
    return results


# -- Rows -----------------------------------------------------------------------

def median_of(runs, key):
    return report.median([r.get(key) for r in runs if r.get(key) is not None])


def requests_per_s(runs):
    return f"{median_of(runs, 'requests_per_s') or 0:,.0f}"


def p99(runs):
    return report.fmt_us(median_of(runs, "p99_us"))


def errors(runs):
    return sum(r.get("errors") or 0 for r in runs)


def burst_splits(runs):
    return "; ".join("/".join(f"{n:,}" for n in r["clients_per_worker"]) or
                     f"failed: {r.get('reason')}" for r in runs)


def loop_shares(runs):
    return "; ".join("/".join(f"{s:.2f}" for s in r["cpu_share_per_loop"]) or
                     f"failed: {r.get('reason')}" for r in runs)


def heavy_mb_per_s(runs):
    heavy = report.median([(r["heavy"].get("requests_per_s") or 0) * 65536 / 1e6 for r in runs])
    return f"{heavy or 0:,.0f}"


# -- Report ---------------------------------------------------------------------

def markdown(results):
    cfg = results["settings"]
    lines = [
        "# --balance reuseport against --balance shared",
        "",
        f"Run {results['generated']} on {machine.sentence(results['machine'])}"
        + (" **Quick settings: a check of the script, not a measurement.**"
           if results["quick"] else ""),
        "",
        f"Command: `{results['command']}`. Both modes interleaved, {cfg['rounds']} rounds; "
        "figures are medians over the rounds. Each server: `sockserv serve -q -m epoll "
        "(--threads 2 | --workers 4) --balance MODE tcp://127.0.0.1:0/echo`, load from "
        "`sockserv bench`. The burst pins the server to one core and the load to the "
        "other; the --threads 2 runs leave server and load unpinned on both cores, so "
        "each loop can have a core (the load generator competes for them alike in both "
        "modes).",
        "",
        f"## Burst: {cfg['burst_connections']:,} connections at once, --workers "
        f"{cfg['burst_workers']}",
        "",
    ]
    lines += report.table(
        ["mode", "clients per worker, each round (most to fewest)", "requests/s>", "p99>",
         "errors>"],
        [[mode, burst_splits(results["burst"][mode]), requests_per_s(results["burst"][mode]),
          p99(results["burst"][mode]), errors(results["burst"][mode])] for mode in MODES])
    lines += ["", "## Steady echo, --threads 2", ""]
    lines += report.table(
        ["connections>", "mode", "requests/s>", "p99>", "loop CPU shares, each round",
         "errors>"],
        [[f"{conns:,}", mode, requests_per_s(runs), p99(runs), loop_shares(runs), errors(runs)]
         for conns in cfg["steady_connections"] for mode in MODES
         for runs in [results["steady"][str(conns)][mode]]])
    lines += ["", f"## One busy loop, --threads 2: {cfg['light_connections']} light clients "
              "beside one heavy one", ""]
    lines += report.table(
        ["mode", "light requests/s>", "light p99>", "light errors>", "heavy MB/s>"],
        [[mode, requests_per_s(runs), p99(runs), errors(runs), heavy_mb_per_s(runs)]
         for mode in MODES for runs in [results["busy_loop"][mode]]])
    return "\n".join(lines)
