"""sockserv beside public single-threaded C echo servers (bench/rivals.py
says what is measured and how rivals are given): its settings, the
contenders, the interleaved runs and their medians and ratios, the check of
whether the load generator is the limit, and run, which does them all. The
system-call counts are in rivals_syscalls.py, the tables in rivals_report.py."""

import re
import shlex
import signal
import sys

from bench.experiments import rivals_syscalls
from bench.lib import machine, procfs, report, servers
from bench.lib.cores import DEFAULT as CORES
from bench.lib.cpu_cap import CpuCap
from bench.lib.durations import seconds
from bench.lib.loadgen import run_bench as run_bench_on

# -- Settings -------------------------------------------------------------------

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


# -- Contenders and runs --------------------------------------------------------

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


# -- Everything -----------------------------------------------------------------

def run(sockserv, rivals, cfg, skip_syscalls=False):
    """Every part of the experiment, for sockserv's epoll and uring and the
    rivals: the results' points, capped, syscalls and generator_check."""
    contenders = {kind: [Contender(kind, f"sockserv-{kind}", sockserv=sockserv)] for kind in KINDS}
    for r in rivals:
        contenders[r["kind"]].append(Contender(r["kind"], r["name"], command=r["command"]))
    results = {"points": measure(contenders, cfg["connections"], cfg)}
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
    if not skip_syscalls:
        problem = rivals_syscalls.perf_usable()
        if problem:
            results["syscalls"] = {"skipped": problem}
        else:
            results["syscalls"] = {"runs": [rivals_syscalls.syscalls_run(c, cfg)
                                            for kind in KINDS for c in contenders[kind]]}
            for r in results["syscalls"]["runs"]:
                report.log(f"syscalls {r['server']:16} {r.get('syscalls_per_request', '-')} per "
                           f"request {r.get('by_call_per_request', r.get('reason'))}")
    results["generator_check"] = generator_check(sockserv, cfg)
    return results
