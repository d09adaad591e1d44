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

The experiment is bench/experiments/rivals.py (with rivals_syscalls.py and
rivals_report.py); this script takes the arguments and writes the results.

Writes bench/results/rivals.{json,md} (--quick: a new temporary directory
unless --out says where).

usage: bench/rivals.py [--quick] [--out DIR]
--quick: 128 B at 1 and 50 connections, 1 s runs, one repeat.
"""

import argparse
import datetime
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench.experiments import rivals as experiment  # noqa: E402
from bench.experiments import rivals_report  # noqa: E402
from bench.lib import machine, procfs, report, servers  # noqa: E402
from bench.lib.cores import DEFAULT as CORES  # noqa: E402


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
    cfg = experiment.QUICK if args.quick else experiment.FULL
    rivals = experiment.parse_rivals(os.environ.get("SOCKSERV_RIVALS"))
    if not rivals:
        report.log("SOCKSERV_RIVALS not given: only sockserv epoll and uring run, no ratios")
    results = {"generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "quick": args.quick, "command": " ".join(["bench/rivals.py", *sys.argv[1:]]),
               "machine": machine.described(CORES), "settings": cfg, "rivals": rivals,
               "target_ratio": experiment.TARGET_RATIO, "points": []}
    started = time.monotonic()
    try:
        results.update(experiment.run(sockserv, rivals, cfg, skip_syscalls=args.skip_syscalls))
    except KeyboardInterrupt:
        report.log("interrupted: servers killed, nothing written")
        return 130
    results["took_s"] = round(time.monotonic() - started, 1)
    results["load_average_at_end"] = procfs.load_average()
    for path in report.write_results("rivals", results, rivals_report.markdown(results), out_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
