"""System calls per request for each contender of the rivals experiment:
perf stat on the raw_syscalls:sys_enter tracepoint and the per-call ones
that matter, attached to the server for a whole `sockserv bench` run."""

import os
import shutil
import signal
import subprocess
import time

from bench.lib import servers
from bench.lib.cores import DEFAULT as CORES
from bench.lib.durations import seconds
from bench.lib.loadgen import run_bench as run_bench_on

# The per-call tracepoints counted beside the total; perf loses counts when
# asked for all of syscalls:sys_enter_* at once, so only these.
SYSCALLS = ["read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg",
            "epoll_wait", "epoll_pwait", "epoll_ctl", "io_uring_enter", "accept4", "close",
            "poll", "ppoll", "select", "pselect6"]


def run_bench(sockserv, url, args, limit):
    """One `sockserv bench` on the load cores (bench.lib.loadgen.run_bench)."""
    return run_bench_on(sockserv, url, args, limit, CORES)


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
