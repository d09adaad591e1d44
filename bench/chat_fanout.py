#!/usr/bin/env python3
"""
Chat fan-out: 1,000 clients in one room, for each model that serves chat.

For each of select, poll, epoll, uring, thread and epoll --threads 2: a
fresh `sockserv serve -m MODEL tcp://127.0.0.1:0/chat` pinned to the first
core; 1,000 receiving clients in the lobby, all in one `sockserv bench
--chat-receive` process, and 4 sending clients in one Python process, all
on the other core. Then two phases:

  fixed      the senders send timestamped lines at a fixed offered rate
             (20 lines/s in all for 5 s); each line reaches the 1,000
             receivers, so about 20,000 deliveries/s
  saturate   the senders send as fast as the deliveries keep up: at most 64
             lines in flight (sent but not yet delivered to every receiver,
             as bench's --progress-file counts them), for 5 s, so that no
             receiver ever falls behind far enough to be dropped as too slow

Each line carries its phase, its sender, the sender's sequence number and
time.monotonic_ns() at sending (CLOCK_MONOTONIC, one clock for every process
on the machine). bench takes the delivery latency of every line on every
receiver, and checks that each got every line exactly once and in each
sender's order. The server's CPU time over each phase (utime+stime from
/proc/PID/stat) is read too. The experiment is bench/experiments/chat_fanout.py
(with chat_sender.py); this script takes the arguments and writes the results.

Writes bench/results/chat_fanout.{json,md} (--quick: a new temporary
directory unless --out says where).

usage: bench/chat_fanout.py [--quick] [--models select,poll,epoll,uring,thread,epoll-t2]
                            [--out DIR]
--quick: 100 receivers, 0.5 s phases.
"""

import argparse
import datetime
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench.experiments import chat_fanout  # noqa: E402
from bench.lib import machine, procfs, report, servers  # noqa: E402
from bench.lib.cores import DEFAULT as CORES  # noqa: E402


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 receivers, 0.5 s phases")
    parser.add_argument("--models", default=",".join(chat_fanout.MODELS))
    parser.add_argument("--out", help="where results go (default bench/results; with "
                        "--quick a new temporary directory)")
    args = parser.parse_args()
    servers.stop_on_sigterm()
    out_dir = report.output_dir(args.out, args.quick)
    labels = [x for x in args.models.split(",") if x]
    for x in labels:
        if x not in chat_fanout.MODELS:
            parser.error(f"unknown model {x!r} (use {', '.join(chat_fanout.MODELS)})")
    sockserv = servers.sockserv_binary()
    cfg = chat_fanout.QUICK if args.quick else chat_fanout.FULL
    results = {"generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "quick": args.quick, "command": " ".join(["bench/chat_fanout.py", *sys.argv[1:]]),
               "machine": machine.described(CORES), "settings": cfg, "runs": []}
    started = time.monotonic()
    try:
        results["runs"] = chat_fanout.run(sockserv, labels, cfg)
    except KeyboardInterrupt:
        report.log("interrupted: servers and clients killed, nothing written")
        return 130
    results["took_s"] = round(time.monotonic() - started, 1)
    results["load_average_at_end"] = procfs.load_average()
    paths = report.write_results("chat_fanout", results, chat_fanout.markdown(results), out_dir)
    for path in paths:
        print(f"wrote {path}")
    return 0 if all(r.get("status") == "ok" for r in results["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
