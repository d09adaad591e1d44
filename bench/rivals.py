#!/usr/bin/env python3
"""
sockserv beside public single-threaded C echo servers.

Rivals are given in SOCKSERV_RIVALS, entries separated by ';', each
KIND:NAME=COMMAND with {port} where the port goes; KIND is the sockserv model
it is set against (epoll or uring):

  SOCKSERV_RIVALS="epoll:frevib-epoll=/tmp/rivals/epoll_echo_server {port};uring:frevib-uring=/tmp/rivals/io_uring_echo_server {port}"

Without it, only sockserv's epoll and uring run and the report says that no
rival was given. The rivals' source and binaries stay outside the repository.

For 128 B and 1 KiB messages at 1, 50, 500 and 5,000 connections: each server
fresh, pinned to the first core; `sockserv bench --json -t 1` (one event-loop
thread) pinned to the other; 3 s after a 0.5 s warmup (2 s at 5,000), request
timeout 2 s. Runs are interleaved (sockserv, rival, sockserv, rival, for
each kind) and each figure is the median of 3. Beside requests/s and p99,
the server's CPU time (utime+stime from /proc/PID/stat, from the end of the
warmup to the end of the run) gives requests per server CPU-second: with
two cores the load generator can be the bottleneck, and then this, not
requests/s, says which server does more with a core.

Then the same at 50, 500 and 5,000 connections with every server held to
40% of its core by the cgroup CPU controller (bench/lib/cpu_cap.py; needs
root, skipped with the reason otherwise): the load generator then has more
than the server, so requests/s measures the server alone.

Also: system calls per request for every server at 50 connections and 128 B
(perf stat on the raw_syscalls:sys_enter tracepoint and the per-call ones
that matter, attached to the server for the whole bench run); and one
check of whether the load generator is the limit (-t 1 against -t 2 on the
same load core).

Writes bench/results/rivals.{json,md} (--quick: a new temporary directory
unless --out says where).

usage: bench/rivals.py [--quick] [--out DIR]
--quick: 128 B at 1 and 50 connections, 1 s runs, one repeat.
"""

import argparse
import datetime
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench.lib import machine, procfs, report, servers  # noqa: E402
from bench.lib.cores import DEFAULT as CORES  # noqa: E402
from bench.lib.durations import seconds  # noqa: E402
from bench.lib.loadgen import run_bench as run_bench_on  # noqa: E402
from bench.lib.cpu_cap import CpuCap  # noqa: E402

FULL = {"sizes": [128, 1024], "connections": [1, 50, 500, 5000], "duration": "3s",
        "warmup": "500ms", "warmup_from_1000": "2s", "timeout": "2s", "repeats": 3,
        "syscall_connections": 50, "syscall_size": 128, "syscall_duration": "3s",
        "capped_connections": [50, 500, 5000], "cap_share": 0.4}
QUICK = {"sizes": [128], "connections": [1, 50], "duration": "1s", "warmup": "200ms",
         "warmup_from_1000": "1s", "timeout": "1s", "repeats": 1,
         "syscall_connections": 50, "syscall_size": 128, "syscall_duration": "1s",
         "capped_connections": [50], "cap_share": 0.4}
KINDS = ["epoll", "uring"]
TARGET_RATIO = 1.15
# The per-call tracepoints counted beside the total; perf loses counts when
# asked for all of syscalls:sys_enter_* at once, so only these.
SYSCALLS = ["read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg",
            "epoll_wait", "epoll_pwait", "epoll_ctl", "io_uring_enter", "accept4", "close",
            "poll", "ppoll", "select", "pselect6"]


def run_bench(sockserv, url, args, limit, server_pid=None, cpu_after_s=0.0):
    """One `sockserv bench` on the load cores (bench.lib.loadgen.run_bench)."""
    return run_bench_on(sockserv, url, args, limit, CORES, server_pid=server_pid,
                        cpu_after_s=cpu_after_s)


def parse_rivals(text):
    rivals = []
    for entry in (text or "").split(";"):
        entry = entry.strip()
        if not entry:
            continue
        kind_name, _, command = entry.partition("=")
        kind, _, name = kind_name.partition(":")
        if kind not in KINDS or not name or "{port}" not in command:
            sys.exit(f"SOCKSERV_RIVALS: bad entry {entry!r} (want KIND:NAME=COMMAND with "
                     f"{{port}}, KIND one of {', '.join(KINDS)})")
        rivals.append({"kind": kind, "name": name, "command": command.strip()})
    return rivals


class Contender:
    def __init__(self, kind, name, sockserv=None, command=None):
        self.kind, self.name, self.sockserv, self.command = kind, name, sockserv, command
        self.is_sockserv = sockserv is not None

    def start(self):
        if self.is_sockserv:
            return servers.MeasuredServer([self.sockserv, "serve", "-q", "-m", self.kind,
                              "tcp://127.0.0.1:0/echo"], CORES)
        port = servers.free_port()
        argv = shlex.split(self.command.replace("{port}", str(port)))
        return servers.MeasuredServer(argv, CORES, port=port)

    def describe(self):
        return (f"sockserv serve -q -m {self.kind} tcp://127.0.0.1:0/echo" if self.is_sockserv
                else self.command)


def exit_text(status):
    if status is not None and status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


def signal_names(text):
    """'server died (status -13)' as older runs wrote it, with the signal named."""
    return re.sub(r"\(status (-\d+)\)", lambda m: f"({exit_text(int(m.group(1)))})", text)


def one_run(contender, size, conns, cfg, cap=None):
    warmup = cfg["warmup_from_1000"] if conns >= 1000 else cfg["warmup"]
    try:
        with contender.start() as server:
            if cap:  # A rival may be a wrapper, or fork workers: cap them all.
                for pid in [server.pid, *procfs.descendants(server.pid)]:
                    cap.add(pid)
            url = f"tcp://127.0.0.1:{server.port}"
            rec = run_bench(servers.sockserv_binary(), url, [
                "-c", str(conns), "-t", "1", "-s", str(size), "-d", cfg["duration"],
                "--warmup", warmup, "--timeout", cfg["timeout"]],
                limit=seconds(cfg["duration"]) + seconds(warmup) + seconds(cfg["timeout"]) + 60,
                server_pid=server.pid, cpu_after_s=seconds(warmup))
            rec["server_alive_after"] = server.alive()
            tail = server.close()
            if not rec["server_alive_after"]:
                rec["server_exit_status"] = server.proc.returncode
                rec["server_output_tail"] = tail
                rec["status"] = "failed" if rec.get("status") == "failed" else "errors"
                rec["reason"] = (f"server died ({exit_text(server.proc.returncode)})"
                                 + (f": {tail}" if tail else ""))
    except RuntimeError as e:
        rec = {"status": "failed", "reason": f"server did not start: {e}"}
    rec["server_command"] = contender.describe()
    r = rec.get("result")
    if r and rec.get("server_cpu_s"):
        # requests counted over elapsed_s; CPU over a window that should match it
        rec["requests_per_server_cpu_s"] = round(
            r["requests_per_s"] * rec["server_cpu_window_s"] / rec["server_cpu_s"], 1)
        rec["server_cpu_share"] = round(rec["server_cpu_s"] / rec["server_cpu_window_s"], 3)
        rec["server_user_share"] = round(rec["server_user_cpu_s"] / rec["server_cpu_s"], 3)
    if r:
        rec["load_cpu_share"] = round(rec["load_cpu_s"] / rec["wall_s"], 3)
    return rec


def measure(contenders, connection_counts, cfg, cap=None):
    """Every contender at every size and connection count, interleaved."""
    points = []
    for size in cfg["sizes"]:
        for conns in connection_counts:
            runs = {c.name: [] for kind in KINDS for c in contenders[kind]}
            others = machine.other_benchmarks()
            steal0 = procfs.steal_seconds()
            for _ in range(cfg["repeats"]):
                for kind in KINDS:
                    for c in contenders[kind]:  # sockserv, rival, ... interleaved
                        rec = one_run(c, size, conns, cfg, cap)
                        rec["load_average"] = procfs.load_average()
                        runs[c.name].append(rec)
            for kind in KINDS:
                point = {"kind": kind, "size": size, "connections": conns,
                         "servers": {}, "runs": {}, "other_benchmarks_at_start": others,
                         "steal_s": round(procfs.steal_seconds() - steal0, 2)}
                for c in contenders[kind]:
                    point["servers"][c.name] = summarize(runs[c.name])
                    point["runs"][c.name] = runs[c.name]
                point["ratios"] = point_ratios(point)
                points.append(point)
                for name, s in point["servers"].items():
                    report.log(f"rivals{' capped' if cap else ''} {kind:5} {size:5} B {conns:5} "
                           f"conns {name:16} {s['requests_per_s'] or 0:10,.0f} req/s p99 "
                           f"{report.fmt_us(s['p99_us'])} server cpu {s['server_cpu_share']} "
                           f"(user {s['server_user_share']}) per-cpu-s "
                           f"{s['requests_per_server_cpu_s'] or 0:,.0f} "
                           f"{'/'.join(x or '?' for x in s['statuses'])}")
    return points


def summarize(runs):
    """Medians over the repeats of one contender at one point."""
    def pick(f):
        return report.median([f(x) for x in runs])
    ok = [x for x in runs if x.get("result")]
    statuses = sorted({x.get("status") for x in runs})
    errors = {}
    for x in ok:
        for k, v in x["result"]["errors"].items():
            errors[k] = errors.get(k, 0) + v
    return {
        "statuses": statuses,
        "requests_per_s": pick(lambda x: x.get("result", {}).get("requests_per_s", 0)),
        "p99_us": pick(lambda x: (x.get("result", {}).get("latency_us") or {}).get("p99")),
        "requests_per_server_cpu_s": pick(lambda x: x.get("requests_per_server_cpu_s")),
        "server_cpu_share": pick(lambda x: x.get("server_cpu_share")),
        "server_user_share": pick(lambda x: x.get("server_user_share")),
        "load_cpu_share": pick(lambda x: x.get("load_cpu_share")),
        "errors_total": errors,
        "reasons": sorted({x["reason"] for x in runs if x.get("reason")}),
        "repeats_requests_per_s": [round(x.get("result", {}).get("requests_per_s", 0), 1)
                                   for x in runs],
    }


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return round(a / b, 3)


def point_ratios(point):
    """sockserv / each rival at one point: the ratio of the medians, and the
    median of the per-round ratios. Runs of one round are back to back, so
    the paired figure is the steadier when the machine drifts between a
    faster and a slower state over minutes, as this one does."""
    ours_name = f"sockserv-{point['kind']}"
    ours = point["servers"][ours_name]
    out = {}
    for name, theirs in point["servers"].items():
        if name == ours_name:
            continue

        def paired(f):
            return report.median([ratio(f(a), f(b)) for a, b in
                              zip(point["runs"][ours_name], point["runs"][name])])
        out[name] = {
            "requests_per_s": ratio(ours["requests_per_s"], theirs["requests_per_s"]),
            "requests_per_s_paired": paired(
                lambda x: x.get("result", {}).get("requests_per_s")),
            "p99": ratio(theirs["p99_us"], ours["p99_us"]),
            "per_server_cpu_s": ratio(ours["requests_per_server_cpu_s"],
                                      theirs["requests_per_server_cpu_s"]),
            "per_server_cpu_s_paired": paired(lambda x: x.get("requests_per_server_cpu_s")),
            "rival_status": "/".join(x or "?" for x in theirs["statuses"])
            + ("; " + "; ".join(theirs["reasons"])[:120] if theirs["reasons"] else ""),
        }
    return out


# -- System calls -----------------------------------------------------------------

def perf_usable():
    if not shutil.which("perf"):
        return "perf is not installed"
    try:
        p = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "true"],
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"perf failed: {e}"
    if p.returncode != 0 or "raw_syscalls" not in p.stderr or "not supported" in p.stderr:
        return f"perf cannot count syscall tracepoints: {p.stderr.strip()[-200:]}"
    return None


def syscalls_run(contender, cfg):
    conns, size = cfg["syscall_connections"], cfg["syscall_size"]
    duration = seconds(cfg["syscall_duration"])
    events = ["raw_syscalls:sys_enter"] + [f"syscalls:sys_enter_{s}" for s in SYSCALLS]
    out = {"server": contender.name, "kind": contender.kind, "connections": conns,
           "message_bytes": size}
    try:
        with contender.start() as server:
            url = f"tcp://127.0.0.1:{server.port}"
            perf_out = os.path.join(servers.sockserv_binary().rsplit("/", 1)[0],
                                    f"perf-{contender.name}.txt")
            perf = subprocess.Popen(["perf", "stat", "-x,", "-o", perf_out,
                                     *sum((["-e", e] for e in events), []),
                                     "-p", str(server.pid), "--", "sleep", str(duration + 3)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            time.sleep(0.5)  # perf attaches
            rec = run_bench(servers.sockserv_binary(), url, [
                "-c", str(conns), "-t", "1", "-s", str(size), "-d", f"{duration}s",
                "--timeout", cfg["timeout"]], limit=duration + 60)
            # perf counts until its sleep ends; the server is idle after the bench.
            try:
                perf.wait(timeout=duration + 30)
            except subprocess.TimeoutExpired:
                perf.send_signal(signal.SIGINT)
                perf.wait(timeout=10)
            counts = {}
            with open(perf_out) as f:
                for line in f:
                    parts = line.strip().split(",")
                    if len(parts) >= 3 and parts[2].startswith(("raw_syscalls", "syscalls")):
                        try:
                            counts[parts[2].split(":")[1].replace("sys_enter_", "")] = int(
                                float(parts[0]))
                        except ValueError:
                            pass
    except (RuntimeError, OSError) as e:
        out.update(status="failed", reason=str(e))
        return out
    requests = rec.get("result", {}).get("requests", 0)
    total = counts.pop("sys_enter", None)
    out.update(command=" ".join(["perf", "stat", "-e", "raw_syscalls:sys_enter", "-e",
                                 "syscalls:sys_enter_{...}", "-p", "PID"]),
               bench=rec, requests=requests, syscalls_total=total,
               by_call={k: v for k, v in sorted(counts.items(), key=lambda kv: -kv[1]) if v})
    if requests and total is not None:
        out["syscalls_per_request"] = round(total / requests, 3)
        out["by_call_per_request"] = {k: round(v / requests, 3) for k, v in out["by_call"].items()}
        out["status"] = "ok"
    else:
        out.update(status="failed", reason=rec.get("reason") or "no count")
    return out


# -- Is the load generator the limit? -----------------------------------------------

def generator_check(sockserv, cfg):
    out = {"note": "sockserv epoll, 50 connections, 128 B, bench -t 1 then -t 2, both on the "
                   "load core(s); if -t 2 is no faster and the server is below one core, the "
                   "single load core is the limit"}
    rows = []
    for threads in (1, 2):
        try:
            with servers.MeasuredServer([sockserv, "serve", "-q", "-m", "epoll",
                                         "tcp://127.0.0.1:0/echo"], CORES) as s:
                rec = run_bench(sockserv, f"tcp://127.0.0.1:{s.port}", [
                    "-c", "50", "-t", str(threads), "-s", "128", "-d", cfg["duration"],
                    "--warmup", cfg["warmup"], "--timeout", cfg["timeout"]],
                    limit=seconds(cfg["duration"]) + 60, server_pid=s.pid,
                    cpu_after_s=seconds(cfg["warmup"]))
        except RuntimeError as e:
            rec = {"status": "failed", "reason": str(e)}
        r = rec.get("result", {})
        rows.append({"threads": threads, "requests_per_s": r.get("requests_per_s"),
                     "server_cpu_share": round(rec["server_cpu_s"] / rec["server_cpu_window_s"], 3)
                     if rec.get("server_cpu_s") else None,
                     "load_cpu_share": round(rec["load_cpu_s"] / rec["wall_s"], 3)
                     if rec.get("wall_s") else None, "command": rec.get("command")})
    out["runs"] = rows
    return out


# -- Report -------------------------------------------------------------------------

def size_label(size):
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} B"


def results_table(points):
    rows = []
    for point in points:
        for name, s in point["servers"].items():
            errs = ", ".join(f"{v} {k}" for k, v in s["errors_total"].items() if v)
            status = "/".join(x or "?" for x in s["statuses"]) + (f" ({errs})" if errs else "")
            if s["reasons"]:
                status += "; " + signal_names("; ".join(s["reasons"]))[:200]

            def show(x):
                return "-" if x is None else x
            rows.append([point["kind"], size_label(point["size"]), f"{point['connections']:,}",
                         name, f"{s['requests_per_s'] or 0:,.0f}", report.fmt_us(s["p99_us"]),
                         show(s["server_cpu_share"]), show(s.get("server_user_share")),
                         show(s["load_cpu_share"]), f"{s['requests_per_server_cpu_s'] or 0:,.0f}",
                         status])
    return report.table(["kind", "message>", "connections>", "server", "requests/s>", "p99>",
                         "server CPU share>", "user share>", "load CPU share>",
                         "requests per server CPU-s>", "status, errors"], rows)


def ratios_table(points):
    rows = []

    def show(x):
        if x is None:
            return "-"
        return f"**{x:.2f}x**" if x >= TARGET_RATIO else f"{x:.2f}x"
    for point in points:
        for rname, r in point.get("ratios", {}).items():
            rows.append([point["kind"], rname, size_label(point["size"]),
                         f"{point['connections']:,}", show(r["requests_per_s"]),
                         show(r.get("requests_per_s_paired")), show(r["p99"]),
                         show(r["per_server_cpu_s"]), show(r.get("per_server_cpu_s_paired")),
                         signal_names(r["rival_status"])])
    return report.table(["kind", "rival", "message>", "connections>", "requests/s>",
                         "requests/s, paired>", "p99>", "per server CPU-s>",
                         "per server CPU-s, paired>", "rival status"], rows)


def markdown(results):
    cfg = results["settings"]
    m = results["machine"]
    lines = [
        "# sockserv beside other single-threaded C echo servers",
        "",
        f"Run {results['generated']} on {machine.sentence(m)}"
        + (" **Quick settings: a check of the script, not a measurement.**" if results["quick"]
           else ""),
        "",
    ]
    if results["rivals"]:
        lines.append("Rivals (SOCKSERV_RIVALS): " + "; ".join(
            f"{r['name']} (`{r['command']}`, against sockserv {r['kind']})"
            for r in results["rivals"]) + ". Their source and binaries are not in this repository.")
    else:
        lines.append("**No rivals were given** (set SOCKSERV_RIVALS, see the script's help): "
                     "only sockserv's epoll and uring ran, and there are no ratios.")
    lines += [
        "",
        f"Command: `{results['command']}`. Each run: a fresh server pinned to core 0; "
        f"`sockserv bench --json -t 1 -c N -s SIZE -d {cfg['duration']} --warmup "
        f"{cfg['warmup']} ({cfg['warmup_from_1000']} from 1,000 connections) --timeout "
        f"{cfg['timeout']}` pinned to core 1. Runs interleaved (sockserv, rival, sockserv, "
        f"rival...), each figure the median of {cfg['repeats']}. Server CPU share = the "
        "server's utime+stime over the measured window / the window; requests per server "
        "CPU-second = requests/s / server CPU share (the measure that survives a load "
        "generator that is the bottleneck). Loopback TCP processing is charged to whichever "
        "process is running when it happens, so CPU figures are approximate for every server "
        "alike. User share: the part of the server's CPU time spent in its own code "
        "(utime / (utime+stime)); the rest is the kernel's TCP and event work, the same "
        "for every server, so no server can be faster than 1 / (1 - its user share) "
        "times a server whose own code costs nothing.",
        "",
        *results_table(results["points"]),
    ]
    if results["rivals"]:
        lines += [
            "",
            "## Ratios sockserv / rival",
            "",
            f"Target: at least {TARGET_RATIO}x. requests/s and requests per server CPU-second: "
            "above 1 is sockserv ahead; p99: rival's p99 / sockserv's, above 1 is sockserv ahead. "
            "\"paired\": the median of the three per-round ratios (each round runs sockserv "
            "and the rival back to back); this machine drifts between a faster and a slower "
            "state over minutes, which moves the plain ratio of medians by up to 30%, so "
            "read differences under about 10% as noise. "
            "A rival that failed (errors, stalls, died) is marked: its ratio is not a speed.",
            "",
            *ratios_table(results["points"]),
        ]
    capped = results.get("capped")
    if capped:
        lines += ["", "## Each server held to the same CPU budget", ""]
        if capped.get("skipped"):
            lines.append(f"Not measured: {capped['skipped']}.")
        else:
            lines += [
                f"The same runs with every server held to {capped['share']:.0%} of its core "
                "by the cgroup CPU controller (`bench/lib/cpu_cap.py`: quota "
                f"{capped['share']:.0%} of a 10 ms period), so that the server, not the "
                "load generator on the other core, is the bottleneck, and requests/s says "
                "what each server does with the same CPU. Server CPU share is then at most "
                f"{capped['share']}; latencies include the throttled stretches.",
                "",
                *results_table(capped["points"]),
            ]
            if results["rivals"]:
                lines += ["", *ratios_table(capped["points"])]
    sc = results.get("syscalls")
    if sc:
        lines += ["", "## System calls per request", ""]
        if sc.get("skipped"):
            lines.append(f"Not measured: {sc['skipped']}")
        else:
            lines += [
                f"{cfg['syscall_connections']} connections, {cfg['syscall_size']} B, "
                f"{cfg['syscall_duration']} with no warmup; `perf stat -e raw_syscalls:sys_enter "
                "-e syscalls:sys_enter_<call>... -p SERVER_PID` attached for the whole bench run "
                "(connection set-up included: 50 accepts and closes). For io_uring servers the "
                "work submitted through the ring is not a system call: this counts the "
                "io_uring_enter calls.",
                "",
                "| server | requests | syscalls | per request | by call, per request |",
                "|---|---:|---:|---:|---|",
            ]
            for r in sc["runs"]:
                if r.get("status") != "ok":
                    lines.append(f"| {r['server']} | failed: {r.get('reason')} | | | |")
                    continue
                by = ", ".join(f"{k} {v:.3f}" for k, v in list(r["by_call_per_request"].items())[:6])
                lines.append(f"| {r['server']} | {r['requests']:,} | {r['syscalls_total']:,} | "
                             f"{r['syscalls_per_request']:.3f} | {by} |")
    g = results.get("generator_check")
    if g:
        lines += ["", "## Is the load generator the limit?", "", g["note"] + ".", "",
                  "| bench threads | requests/s | server CPU share | load CPU share |",
                  "|---:|---:|---:|---:|"]
        for r in g["runs"]:
            lines.append(f"| {r['threads']} | {r['requests_per_s'] or 0:,.0f} | "
                         f"{r['server_cpu_share']} | {r['load_cpu_share']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="128 B at 1 and 50 connections, 1 s runs, one repeat")
    parser.add_argument("--out", help="where results go (default bench/results; with "
                        "--quick a new temporary directory)")
    parser.add_argument("--skip-syscalls", action="store_true")
    args = parser.parse_args()
    servers.stop_on_sigterm()
    out_dir = report.output_dir(args.out, args.quick)
    sockserv = servers.sockserv_binary()
    cfg = QUICK if args.quick else FULL
    rivals = parse_rivals(os.environ.get("SOCKSERV_RIVALS"))
    if not rivals:
        report.log("SOCKSERV_RIVALS not given: only sockserv epoll and uring run, no ratios")
    contenders = {kind: [Contender(kind, f"sockserv-{kind}", sockserv=sockserv)] for kind in KINDS}
    for r in rivals:
        contenders[r["kind"]].append(Contender(r["kind"], r["name"], command=r["command"]))
    results = {"generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "quick": args.quick, "command": " ".join(["bench/rivals.py", *sys.argv[1:]]),
               "machine": machine.described(CORES), "settings": cfg, "rivals": rivals,
               "target_ratio": TARGET_RATIO, "points": []}
    started = time.monotonic()
    try:
        results["points"] = measure(contenders, cfg["connections"], cfg)
        problem = CpuCap.unavailable()
        if not problem:
            try:
                with CpuCap(cfg["cap_share"]) as cap:
                    results["capped"] = {"share": cfg["cap_share"],
                                         "points": measure(contenders, cfg["capped_connections"],
                                                           cfg, cap)}
            except OSError as e:  # A cgroup tree that is mounted but not ours to change.
                problem = f"cannot set up the cgroup: {e}"
        if problem:
            results["capped"] = {"skipped": problem}
            report.log(f"capped runs skipped: {problem}")
        if not args.skip_syscalls:
            problem = perf_usable()
            if problem:
                results["syscalls"] = {"skipped": problem}
            else:
                results["syscalls"] = {"runs": [syscalls_run(c, cfg) for kind in KINDS
                                                for c in contenders[kind]]}
                for r in results["syscalls"]["runs"]:
                    report.log(f"syscalls {r['server']:16} {r.get('syscalls_per_request', '-')} per "
                           f"request {r.get('by_call_per_request', r.get('reason'))}")
        results["generator_check"] = generator_check(sockserv, cfg)
    except KeyboardInterrupt:
        report.log("interrupted: servers killed, nothing written")
        return 130
    results["took_s"] = round(time.monotonic() - started, 1)
    results["load_average_at_end"] = procfs.load_average()
    for path in report.write_results("rivals", results, markdown(results), out_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
