#!/usr/bin/env python3
"""
Memory per idle connection, and how many connections sockserv holds.

  memory   (a) for each model, the server's RSS before and after 10,000 idle
           echo connections (epoll, poll, uring, thread; fork with 1,000, its
           memory summed as PSS over every process), beside what the kernel
           spent on the same sockets; then the same with one echo round trip
           per connection first, to show that I/O buffers go back when idle
  scale19k (b) 19,000 connections to one process (epoll and uring,
           --max-conns 19500) from two client processes, each connection
           then doing one echo round trip
  scale100k (c) 100,000 connections to --workers 6 --max-conns 19000 (epoll)
           from six client processes with source addresses spread over
           127.0.0.0/8, every connection doing one echo round trip, and how
           the connections split across the workers

Writes bench/results/memory.{json,md} (part a) and scale.{json,md} (b, c);
--quick writes to a new temporary directory unless --out says where.
Servers are pinned to the first core and the client processes to the
others. Client processes are `sockserv bench --hold` (bench.lib.loadgen.Hold):
they bind each socket to a 127.x.y.z source address before connecting (so no
address runs out of ephemeral ports), say when they hold every connection,
and end at SIGINT or by themselves after their -d.

usage: bench/memory_scale.py [--quick] [--only memory,scale19k,scale100k]
                             [--models epoll,poll,uring,thread,fork] [--out DIR]
--quick: small numbers (a few hundred connections), a few seconds each part.
"""

import argparse
import datetime
import os
import socket
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench.lib import machine, procfs, report, servers  # noqa: E402
from bench.lib.loadgen import Hold, stop_holds  # noqa: E402
from bench.lib.cores import DEFAULT as CORES  # noqa: E402

FULL = {
    "memory": {"connections": 10000, "fork_connections": 1000, "echo_bytes": 64,
               "warm_round_trips": 2000, "settle_s": 1.0},
    "scale19k": {"connections": 19000, "clients": 2, "max_conns": 19500, "echo_bytes": 64},
    "scale100k": {"connections": 100000, "clients": 6, "workers": 6, "max_conns": 19000,
                  "echo_bytes": 64, "time_budget_s": 240},
}
QUICK = {
    "memory": {"connections": 500, "fork_connections": 50, "echo_bytes": 64,
               "warm_round_trips": 1100, "settle_s": 0.2},
    "scale19k": {"connections": 1000, "clients": 2, "max_conns": 1500, "echo_bytes": 64},
    "scale100k": {"connections": 2000, "clients": 2, "workers": 2, "max_conns": 1500,
                  "echo_bytes": 64, "time_budget_s": 60},
}
MODELS = ["epoll", "poll", "uring", "thread", "fork"]
TARGET_BYTES = 256


def warm(port, round_trips):
    """One connection does round_trips echoes before the baseline, so that
    fixed pools (uring's 8 MiB provided-buffer ring, malloc's first arena
    growth, the thread model's first stack) are counted as what they are:
    a fixed cost, not a cost per connection."""
    if round_trips <= 0:
        return
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        msg = b"w" * 1023 + b"\n"
        for _ in range(round_trips):
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                chunk = s.recv(len(msg) - len(got))
                if not chunk:
                    return
                got += chunk


def server_footprint(pid, model):
    """The server's memory: the process itself, or for fork every process
    of the tree, summed as PSS (shared pages split between sharers)."""
    mem = procfs.memory(pid)
    out = {"rss": mem["VmRSS"], "rss_anon": mem["RssAnon"], "threads": mem["Threads"],
           "fds": procfs.fd_count(pid)}
    if model == "fork":
        procs = [pid] + procfs.descendants(pid)
        out["processes"] = len(procs)
        out["pss_sum"] = sum(procfs.pss(p) or 0 for p in procs)
        out["rss_sum"] = sum(procfs.memory(p)["VmRSS"] or 0 for p in procs)
        out["rss_anon_sum"] = sum(procfs.memory(p)["RssAnon"] or 0 for p in procs)
    return out


def held_count(pid, model, base):
    """Connections the server holds now: descriptors beyond its baseline,
    or for fork the number of children."""
    if model == "fork":
        return len(procfs.child_pids(pid))
    return procfs.fd_count(pid) - base


def wait_accepted(pid, model, port, want, limit):
    """Waits until the server has accepted want connections: that many
    established on its port and none left in the accept queue (and, for
    fork, a child for each). Counted through ss, which leaves the kernel's
    caches alone; the descriptors are counted after the kernel reading."""
    deadline = time.monotonic() + limit
    last, still_since, n = -1, time.monotonic(), 0
    while time.monotonic() < deadline:
        established, queued = procfs.ss_server_side(port)
        n = established - queued
        if model == "fork":
            n = min(n, len(procfs.child_pids(pid)))
        if n >= want:
            return n
        if n != last:
            last, still_since = n, time.monotonic()
        elif time.monotonic() - still_since > 10:
            return n  # nothing moved for 10 s: it will not get there
        time.sleep(0.1)
    return n


# -- (a) memory per idle connection -------------------------------------------

def memory_run(sockserv, model, count, echo, cfg):
    options = []
    if model in ("thread", "fork"):
        options = ["--max-conns", str(count + 100)]
    argv = [sockserv, "serve", "-q", "-m", model, *options, "tcp://127.0.0.1:0/echo"]
    record = {"model": model, "connections": count, "echo_first": echo,
              "command": " ".join(CORES.on_server_cores(argv)), "load_average_before": procfs.load_average(),
              "other_benchmarks": machine.other_benchmarks()}
    hold = None
    try:
        with servers.MeasuredServer(argv, CORES) as server:
            pid = server.pid
            record["at_start"] = server_footprint(pid, model)
            warm(server.port, cfg["warm_round_trips"])
            time.sleep(0.3)
            base_fds = procfs.fd_count(pid)
            before = server_footprint(pid, model)
            k_before = procfs.kernel_snapshot()
            started = time.monotonic()
            # With echo first, every connection makes its round trip as soon
            # as it is open, and is held only once it has.
            hold = Hold(sockserv, f"tcp://127.0.0.1:{server.port}", count, CORES, "127.0.1.1",
                        hold_requests=1 if echo else 0, size=cfg["echo_bytes"],
                        connect_rate=10000, max_seconds=240)
            held = hold.wait_held(120)
            record["client"] = {"command": " ".join(hold.argv), "asked": count,
                                "established": held["held"], "failed": held.get("failed"),
                                "elapsed_s": held.get("after_s"),
                                "first_error": held.get("first_error")}
            accepted = wait_accepted(pid, model, server.port, held["held"], 60)
            record["server_accepted_by_ss"] = accepted
            record["connect_s"] = round(time.monotonic() - started, 2)
            time.sleep(cfg["settle_s"])  # let deferred frees and the kernel settle
            # The kernel first: reading /proc/PID/fd would add to its caches.
            k_after = procfs.kernel_snapshot()
            after = server_footprint(pid, model)
            held = held_count(pid, model, base_fds)
            record["server_held"] = held
            record["skmem_server_side"] = procfs.ss_skmem_sample(server.port)
            record["before"], record["after"] = before, after
            n = max(held, 1)
            if model == "fork":
                grew = after["pss_sum"] - before["pss_sum"]
                record["user_bytes_per_connection"] = round(grew / n, 1)
                record["measure"] = "PSS summed over the parent and every child"
                record["rss_anon_sum_per_connection"] = round(
                    (after["rss_anon_sum"] - before["rss_anon"]) / n, 1)
            else:
                record["user_bytes_per_connection"] = round((after["rss"] - before["rss"]) / n, 1)
                record["rss_anon_per_connection"] = round(
                    (after["rss_anon"] - before["rss_anon"]) / n, 1)
                record["measure"] = "VmRSS growth of the server process"
            record["kernel"] = procfs.kernel_growth(k_before, k_after, n)
            record["status"] = "ok" if held == count else "short"
            record["server_alive"] = server.alive()
            record["client_report"] = client_summary(hold.stop())
            hold = None
    except RuntimeError as e:
        record.update(status="failed", reason=f"server did not start: {e}")
    finally:
        if hold is not None:
            hold.stop()
    if echo and "client_report" in record:
        r = record["client_report"]
        record["echo"] = {"ok": r.get("requests", 0), "errors": r.get("errors", {})}
    record["load_average_after"] = procfs.load_average()
    return record


def client_summary(report):
    """What a record keeps of a `sockserv bench --hold` report."""
    keep = ("status", "reason", "held", "held_failed", "held_after_s", "requests",
            "requests_failed", "connections_made", "connections_failed", "errors",
            "first_other_error", "latency_us")
    return {k: report[k] for k in keep if k in report}


def experiment_memory(sockserv, models, cfg):
    runs = []
    for model in models:
        count = cfg["fork_connections"] if model == "fork" else cfg["connections"]
        for echo in (False, True):
            rec = memory_run(sockserv, model, count, echo, cfg)
            runs.append(rec)
            if rec["status"] == "failed":
                report.log(f"memory {model:6} echo={echo!s:5} FAILED: {rec['reason']}")
            else:
                report.log(f"memory {model:6} echo={echo!s:5} held {rec['server_held']}/{count}  "
                       f"user {rec['user_bytes_per_connection']:.0f} B/conn  kernel slab "
                       f"{rec['kernel'].get('slabinfo_total_per_connection', 0):.0f} B/conn (both ends)")
            time.sleep(cfg["settle_s"])  # the RSTs of the last run clear
    return {"settings": cfg, "target_bytes": TARGET_BYTES, "runs": runs}


# -- (b) 19,000 in one process ----------------------------------------------------

def scale_run(sockserv, argv, model_label, cfg, count, clients, workers=0, time_budget=240):
    record = {"label": model_label, "asked": count, "client_processes": clients,
              "command": " ".join(CORES.on_server_cores(argv)), "load_average_before": procfs.load_average(),
              "other_benchmarks": machine.other_benchmarks()}
    holds = []
    started = time.monotonic()
    try:
        with servers.MeasuredServer(argv, CORES) as server:
            pid = server.pid
            time.sleep(0.3 if not workers else 1.0)
            procs = procfs.child_pids(pid) if workers else [pid]
            record["server_processes"] = len(procs)
            base = {p: procfs.socket_fd_count(p) for p in procs}
            per = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
            for i, n in enumerate(per):
                # Each client process has a block of source addresses of its
                # own: 127.(10+i).0.1 onward, 1000 connections on each. Each
                # connection makes its round trip as soon as it is open.
                holds.append(Hold(sockserv, f"tcp://127.0.0.1:{server.port}", n, CORES,
                                  f"127.{10 + i}.0.1", hold_requests=1, size=cfg["echo_bytes"],
                                  connect_rate=max(2000, 20000 // clients), timeout="60s",
                                  max_seconds=time_budget + 60))
            deadline = time.monotonic() + time_budget * 0.6
            conns = [h.wait_held(max(0.1, deadline - time.monotonic())) for h in holds]
            record["connect_s"] = round(time.monotonic() - started, 2)
            record["clients"] = conns
            established = sum(c.get("held", 0) for c in conns)
            record["established"] = established
            # The server side: wait until the workers hold what the clients have.
            deadline = time.monotonic() + 60
            last, still = -1, time.monotonic()
            while time.monotonic() < deadline:
                procs_now = procfs.child_pids(pid) if workers else [pid]
                held = sum(procfs.socket_fd_count(p) - base.get(p, 0) for p in procs_now)
                if held >= established:
                    break
                if held != last:
                    last, still = held, time.monotonic()
                elif time.monotonic() - still > 10:
                    break
                time.sleep(0.2)
            procs_now = procfs.child_pids(pid) if workers else [pid]
            record["per_process"] = [{
                "pid": p, "connections": procfs.socket_fd_count(p) - base.get(p, 0),
                "rss": procfs.memory(p)["VmRSS"], "rss_anon": procfs.memory(p)["RssAnon"]}
                for p in procs_now]
            record["server_rss_total"] = sum(x["rss"] or 0 for x in record["per_process"])
            if workers:
                record["supervisor_rss"] = procfs.memory(pid)["VmRSS"]
            record["server_alive"] = server.alive()
            record["sockstat"] = procfs.sockstat()
            reports = [client_summary(r) for r in stop_holds(holds)]
            holds = []
            record["elapsed_s"] = round(time.monotonic() - started, 2)
            record["client_reports"] = reports
            record["round_trips_ok"] = sum(r.get("requests", 0) for r in reports)
            slowest = [(r.get("latency_us") or {}).get("max") for r in reports]
            record["round_trip_max_s"] = round(max((x or 0 for x in slowest), default=0) / 1e6, 3)
            errs = {}
            for r in reports:
                for k, v in (r.get("errors") or {}).items():
                    if v:
                        errs[k] = errs.get(k, 0) + v
            record["client_errors"] = errs
            record["first_errors"] = sorted(
                {c["first_error"] for c in conns if c.get("first_error")}
                | {r[k] for r in reports for k in ("reason", "first_other_error") if r.get(k)})
            record["server_stderr_tail"] = server.close()
    except RuntimeError as e:
        record.update(status="failed", reason=f"server did not start: {e}")
        return record
    finally:
        stop_holds(holds)
    record["status"] = ("ok" if record["round_trips_ok"] == count else
                        "short" if record["round_trips_ok"] else "failed")
    record["load_average_after"] = procfs.load_average()
    return record


def experiment_scale19k(sockserv, cfg):
    runs = []
    for model in ("epoll", "uring"):
        argv = [sockserv, "serve", "-q", "-m", model, "--max-conns", str(cfg["max_conns"]),
                "tcp://127.0.0.1:0/echo"]
        rec = scale_run(sockserv, argv, model, cfg, cfg["connections"], cfg["clients"])
        runs.append(rec)
        report.log(f"scale19k {model:6} " + summary_scale(rec))
        time.sleep(0.5)
    return {"settings": cfg, "runs": runs}


def experiment_scale100k(sockserv, cfg):
    argv = [sockserv, "serve", "-q", "-m", "epoll", "--workers", str(cfg["workers"]),
            "--max-conns", str(cfg["max_conns"]), "tcp://127.0.0.1:0/echo"]
    rec = scale_run(sockserv, argv, f"epoll --workers {cfg['workers']}", cfg,
                    cfg["connections"], cfg["clients"], workers=cfg["workers"],
                    time_budget=cfg["time_budget_s"])
    report.log("scale100k " + summary_scale(rec))
    return {"settings": cfg, "runs": [rec]}


def summary_scale(rec):
    if rec.get("status") == "failed" and "established" not in rec:
        return f"FAILED: {rec.get('reason')}"
    return (f"established {rec['established']}/{rec['asked']}, round trips ok "
            f"{rec['round_trips_ok']}, connect and round trip {rec['connect_s']} s, slowest "
            f"round trip {rec['round_trip_max_s']} s, "
            f"server RSS {report.fmt_bytes(rec['server_rss_total'])}"
            + (f"; errors {rec['client_errors']}" if rec["client_errors"] else ""))


# -- Reports ----------------------------------------------------------------------

def markdown_memory(results):
    m = results["machine"]
    exp = results["experiments"]["memory"]
    s = exp["settings"]
    lines = [
        "# sockserv: memory per idle connection",
        "",
        f"Run {results['generated']} on {machine.sentence(m)}"
        + (" **Quick settings: a check of the script, not a measurement.**" if results["quick"]
           else ""),
        "",
        f"Command: `{results['command']}`. Each row: a fresh echo server; one connection "
        f"first does {s['warm_round_trips']} round trips of 1 KiB (so fixed pools such as "
        "uring's 8 MiB provided-buffer ring are touched before the baseline); then the "
        f"baseline; then {s['connections']:,} idle connections ({s['fork_connections']:,} for fork) "
        "from one client process, bound to 127.0.1.x source addresses; the server has "
        "accepted them all when ss shows them all established on its port with nothing left "
        "in the accept queue (and, for fork, a child for each); 1 s later the second "
        "reading, and then \"held\", from the server's descriptors. \"echo first\": every connection did one "
        f"{s['echo_bytes']} B round trip before the reading, so its buffers were "
        "allocated and freed.",
        "",
        "User space is the server's VmRSS growth divided by the connections (RssAnon beside "
        "it); for fork, PSS summed over the parent and every child, so pages the children "
        "share count once. The kernel columns are system-wide and include BOTH ends of each "
        "connection (the client's socket is on this machine too): SUnreclaim growth from "
        "/proc/meminfo, and the sum of /proc/slabinfo caches that grew (but proc_inode_cache, "
        "which grows when /proc/PID/fd is listed: the measurement, not the connections; the "
        "kernel is read before that listing, and ss, which uses netlink, tells when every "
        "connection has been accepted), plus KernelStack and PageTables (threads and "
        "processes). Socket buffers of "
        "idle connections are in the skmem column (`ss -tm`, mean over the server's "
        "sockets): r/t are the bytes queued, f the forward-allocated reserve.",
        "",
        f"Target: at most {exp['target_bytes']} B of user space per idle connection for "
        "epoll, poll and uring. The load average column is the 1-minute figure as each row "
        "began: the thread rows' 10,000 threads and the fork rows' 1,000 processes raise it "
        "themselves, so other_benchmarks in memory.json (other benchmark processes seen as "
        "each row began) is the better sign of a disturbed run.",
        "",
    ]
    rows = []
    for r in exp["runs"]:
        if r["status"] == "failed":
            rows.append([r["model"], "yes" if r["echo_first"] else "no",
                         f"failed: {r['reason']}"])
            continue
        k = r["kernel"]
        caches = ", ".join(f"{n} {v:.0f}" for n, v in list(k["slab_caches_per_connection"].items())[:5])
        sk = r.get("skmem_server_side") or {}
        skm = sk.get("mean", {})
        sk_text = (f"r {skm.get('r', 0):.0f} t {skm.get('t', 0):.0f} f {skm.get('f', 0):.0f} "
                   f"w {skm.get('w', 0):.0f}") if skm else "-"
        user = r["user_bytes_per_connection"]
        target = ("-" if r["model"] in ("thread", "fork") else
                  ("met" if user <= exp["target_bytes"] else "**missed**"))
        anon = r.get("rss_anon_per_connection", r.get("rss_anon_sum_per_connection"))
        stacks = k.get("KernelStack_per_connection", 0) + k.get("PageTables_per_connection", 0)
        rows.append([
            r["model"], "yes" if r["echo_first"] else "no",
            f"{r['server_held']:,}/{r['connections']:,}", f"{user:,.0f}", f"{anon:,.0f}", target,
            f"{k.get('slabinfo_total_per_connection', 0):,.0f}",
            f"{k.get('SUnreclaim_per_connection', 0):,.0f}", f"{stacks:,.0f}", caches, sk_text,
            f"{r['load_average_before'][0]:.1f}"])
    lines += report.table(
        ["model", "echo first", "held>", "user B/conn (RSS)>", "RssAnon B/conn>", "target",
         "kernel slab B/conn (both ends)>", "SUnreclaim B/conn>",
         "kernel stacks + page tables B/conn>", "top slab caches, B/conn",
         "skmem mean, server side (B)", "load avg"], rows)
    lines += ["", "Notes:", ""]
    for r in exp["runs"]:
        if r["status"] == "failed":
            continue
        b, a = r["before"], r["after"]
        if r["model"] == "fork":
            lines.append(f"- fork{' (echo first)' if r['echo_first'] else ''}: "
                         f"{a.get('processes')} processes, PSS {report.fmt_bytes(b.get('pss_sum'))} "
                         f"-> {report.fmt_bytes(a.get('pss_sum'))}, RSS summed "
                         f"{report.fmt_bytes(a.get('rss_sum'))}.")
        else:
            lines.append(f"- {r['model']}{' (echo first)' if r['echo_first'] else ''}: RSS "
                         f"{report.fmt_bytes(r['at_start']['rss'])} at start, "
                         f"{report.fmt_bytes(b['rss'])} after warming, {report.fmt_bytes(a['rss'])} "
                         f"with the connections; {a['threads']} threads.")
    return "\n".join(lines)


def markdown_scale(results):
    m = results["machine"]
    exp = results["experiments"]
    lines = [
        "# sockserv: how many connections",
        "",
        f"Run {results['generated']} on {machine.sentence(m)}"
        + (" **Quick settings: a check of the script, not a measurement.**" if results["quick"]
           else "")
        + f" Ephemeral ports {'-'.join(m['ip_local_port_range'].split())} (per source address), "
        f"tcp_mem {' '.join(m['tcp_mem_pages'].split())} pages, somaxconn {m['somaxconn']}, file-max {m['file_max']}.",
        "",
        f"Command: `{results['command']}`. Client processes (`sockserv bench --hold "
        "--hold-requests 1 --source-from 127.(10+i).0.1`) run on the load core, the server on "
        "core 0. Each client binds every socket to a source address of its own block "
        "(127.(10+i).0.x, 1000 connections per address, IP_BIND_ADDRESS_NO_PORT) before "
        "connecting, and every connection, once open, sends one 64 B line and waits for its "
        "echo. Connections are counted on both sides: \"established\" by the clients (open, "
        "round trip done), \"held\" by counting socket descriptors in each server process's "
        "/proc/PID/fd. \"connect and round trip s\": until every client held all of its "
        "connections; \"slowest round trip\": the longest one round trip took.",
        "",
        "| experiment | server | asked | established | round trips ok | connect and round trip s | slowest round trip s | whole run s | server RSS | client errors | load avg |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name in ("scale19k", "scale100k"):
        if name not in exp:
            continue
        for r in exp[name]["runs"]:
            if "established" not in r:
                lines.append(f"| {name} | {r['label']} | {r['asked']:,} | failed: "
                             f"{r.get('reason')} | | | | | | | |")
                continue
            errs = ", ".join(f"{k} {v}" for k, v in r["client_errors"].items()) or "0"
            lines.append(
                f"| {name} | `{r['label']}` | {r['asked']:,} | {r['established']:,} | "
                f"{r['round_trips_ok']:,} | {r['connect_s']} | {r['round_trip_max_s']} | "
                f"{r['elapsed_s']} | {report.fmt_bytes(r['server_rss_total'])} | {errs} | "
                f"{r['load_average_before'][0]:.1f} |")
    for name in ("scale19k", "scale100k"):
        for r in exp.get(name, {}).get("runs", []):
            if "per_process" not in r:
                continue
            if name == "scale100k":
                lines += ["", f"How the {r['established']:,} connections split across the "
                          f"workers (socket descriptors in each worker's /proc/PID/fd after "
                          "the round trips):", "",
                          "| worker pid | connections | RSS |", "|---|---:|---:|"]
                for p in r["per_process"]:
                    lines.append(f"| {p['pid']} | {p['connections']:,} | "
                                 f"{report.fmt_bytes(p['rss'])} |")
                lines.append(f"| supervisor | 0 | {report.fmt_bytes(r.get('supervisor_rss'))} |")
            if r.get("first_errors"):
                lines += ["", f"{name} `{r['label']}` first errors: "
                          + "; ".join(r["first_errors"])]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small numbers, a few seconds")
    parser.add_argument("--only", default="memory,scale19k,scale100k")
    parser.add_argument("--models", default=",".join(MODELS), help="for the memory part")
    parser.add_argument("--out", help="where results go (default bench/results; with "
                        "--quick a new temporary directory)")
    args = parser.parse_args()
    servers.stop_on_sigterm()
    out_dir = report.output_dir(args.out, args.quick)
    only = [x for x in args.only.split(",") if x]
    for x in only:
        if x not in ("memory", "scale19k", "scale100k"):
            parser.error(f"unknown part {x!r}")
    models = [x for x in args.models.split(",") if x]
    for x in models:
        if x not in MODELS:
            parser.error(f"unknown model {x!r} (use {', '.join(MODELS)})")
    sockserv = servers.sockserv_binary()
    settings = QUICK if args.quick else FULL
    base = {"generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "quick": args.quick, "command": " ".join(["bench/memory_scale.py", *sys.argv[1:]]),
            "machine": machine.described(CORES)}
    written = []
    started = time.monotonic()
    try:
        if "memory" in only:
            res = dict(base, experiments={"memory": experiment_memory(
                sockserv, models, settings["memory"])})
            res["load_average_at_end"] = procfs.load_average()
            written += report.write_results("memory", res, markdown_memory(res), out_dir)
        scale = {}
        if "scale19k" in only:
            scale["scale19k"] = experiment_scale19k(sockserv, settings["scale19k"])
        if "scale100k" in only:
            scale["scale100k"] = experiment_scale100k(sockserv, settings["scale100k"])
        if scale:
            res = dict(base, experiments=scale)
            res["load_average_at_end"] = procfs.load_average()
            written += report.write_results("scale", res, markdown_scale(res), out_dir)
    except KeyboardInterrupt:
        report.log("interrupted: servers and clients killed, nothing written for the unfinished part")
        return 130
    report.log(f"took {time.monotonic() - started:.0f} s")
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
