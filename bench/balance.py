#!/usr/bin/env python3
"""
--balance reuseport against --balance shared: how several loops or
workers split their clients, and what each choice costs.

  reuseport  every loop (--threads) and worker (--workers) has sockets of
             its own on the same port (SO_REUSEPORT); the kernel hashes
             each client to one of them
  shared     they all take clients from one socket (EPOLLEXCLUSIVE under
             epoll): the first free one wins

Three experiments, each run for both modes, interleaved, 3 rounds:

  burst      --workers 4 -m epoll; `sockserv bench -c 2000` opens 2,000
             connections at once and echoes 128 B on each for 3 s. Halfway,
             the clients each worker holds are counted (its sockets less
             its listener), with the run's requests/s and p99.
  steady     --threads 2 -m epoll; echo 128 B over 50 and over 1,000
             connections for 3 s (0.5 s warmup): requests/s, p99, and the
             share of the server's CPU time each loop thread used.
  busy loop  --threads 2 -m epoll; one client keeps its loop busy (64 KiB
             echoes, 8 in flight) while 100 light clients connect and echo
             128 B for 3 s: the light clients' requests/s and p99. Under
             reuseport about half of them are hashed to the busy loop; under
             shared the idle loop is the one that wakes.

In the burst the server is pinned to the first core and the load to the
other, as in every sockserv benchmark. With --threads 2 the server and the
load run unpinned on both cores: two loops pinned to one core would take
turns in scheduler slices, and that, not the mode, would set their
latency. The load generator then competes with the loops for the two
cores, the same for both modes.

The experiment is bench/experiments/balance.py; this script takes the
arguments and writes the results.

Writes bench/results/balance.{json,md} (--quick: a new temporary directory
unless --out says where).

usage: bench/balance.py [--quick] [--out DIR]
--quick: 1 round, 1 s runs, 400 connections in the burst.
"""

import argparse
import datetime
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench.experiments import balance  # noqa: E402
from bench.lib import machine, procfs, report, servers  # noqa: E402
from bench.lib.cores import DEFAULT as CORES  # noqa: E402

def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    servers.stop_on_sigterm()
    out_dir = report.output_dir(args.out, args.quick)
    sockserv = servers.sockserv_binary()
    cfg = balance.QUICK if args.quick else balance.FULL
    results = {"generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "quick": args.quick, "command": " ".join(["bench/balance.py", *sys.argv[1:]]),
               "machine": machine.described(CORES), "settings": cfg}
    try:
        results.update(balance.run(sockserv, cfg))
    except KeyboardInterrupt:
        report.log("interrupted: servers killed, nothing written")
        return 130
    results["load_average_at_end"] = procfs.load_average()
    for path in report.write_results("balance", results, balance.markdown(results), out_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
