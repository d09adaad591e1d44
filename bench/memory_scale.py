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
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench.experiments import memory, scale  # noqa: E402
from bench.lib import machine, procfs, report, servers  # noqa: E402
from bench.lib.cores import DEFAULT as CORES  # noqa: E402


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small numbers, a few seconds")
    parser.add_argument("--only", default="memory,scale19k,scale100k")
    parser.add_argument("--models", default=",".join(memory.MODELS), help="for the memory part")
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
        if x not in memory.MODELS:
            parser.error(f"unknown model {x!r} (use {', '.join(memory.MODELS)})")
    sockserv = servers.sockserv_binary()
    settings = {"memory": memory.QUICK if args.quick else memory.FULL,
                **(scale.QUICK if args.quick else scale.FULL)}
    base = {"generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "quick": args.quick, "command": " ".join(["bench/memory_scale.py", *sys.argv[1:]]),
            "machine": machine.described(CORES)}
    written = []
    started = time.monotonic()
    try:
        if "memory" in only:
            res = dict(base, experiments={"memory": memory.run(
                sockserv, models, settings["memory"])})
            res["load_average_at_end"] = procfs.load_average()
            written += report.write_results("memory", res, memory.markdown(res), out_dir)
        parts = {}
        if "scale19k" in only:
            parts["scale19k"] = scale.run_19k(sockserv, settings["scale19k"])
        if "scale100k" in only:
            parts["scale100k"] = scale.run_100k(sockserv, settings["scale100k"])
        if parts:
            res = dict(base, experiments=parts)
            res["load_average_at_end"] = procfs.load_average()
            written += report.write_results("scale", res, scale.markdown(res), out_dir)
    except KeyboardInterrupt:
        report.log("interrupted: servers and clients killed, nothing written for the unfinished part")
        return 130
    report.log(f"took {time.monotonic() - started:.0f} s")
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
