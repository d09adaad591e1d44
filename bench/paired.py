#!/usr/bin/python3
"""
Two builds' servers side by side, in one session: does a change move echo
or chat fan-out? Rounds alternate the two servers (and which goes first),
so whatever else the machine does lands on both alike; the figure that
counts is the median of each round's new/old ratio, quoted with the range
of those ratios (the noise). The load is always the NEW build's
`sockserv bench`, so only the server differs.

    bench/paired.py --old /tmp/old/build/sockserv --new build/sockserv

Results go to bench/results/paired.{json,md} (or --out DIR).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.experiments import chat_fanout  # noqa: E402
from bench.lib import machine, report  # noqa: E402
from bench.lib.cores import DEFAULT as CORES  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def start_server(binary, model, listener):
    proc = subprocess.Popen([binary, "serve", "-q", "-m", model, listener],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening "):
        proc.kill()
        raise RuntimeError(f"{binary} did not start: {line!r}")
    return proc, line.split()[1]


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def echo_once(server_binary, bench_binary, model, args):
    proc, url = start_server(server_binary, model, "tcp://127.0.0.1:0/echo")
    try:
        out = subprocess.run([bench_binary, "bench", "-c", str(args.connections), "-d",
                              f"{args.seconds}s", "--json", url],
                             capture_output=True, text=True, timeout=args.seconds + 30)
        return json.loads(out.stdout)["requests_per_s"]
    finally:
        stop_server(proc)


def chat_once(server_binary, bench_binary, label, cfg):
    record = chat_fanout.run_model(bench_binary, label, cfg, server_binary=server_binary)
    if record.get("status") != "ok":
        raise RuntimeError(f"chat fan-out failed: {record.get('reason', record.get('status'))}")
    return record["saturate_median"]["deliveries_per_server_cpu_s"]


def paired(measure, old, new, rounds):
    """Runs measure(binary) for both builds, rounds times, alternating."""
    runs = {"old": [], "new": []}
    for r in range(rounds):
        order = [("old", old), ("new", new)] if r % 2 == 0 else [("new", new), ("old", old)]
        for name, binary in order:
            runs[name].append(measure(binary))
    ratios = [n / o for n, o in zip(runs["new"], runs["old"])]
    return {"old": runs["old"], "new": runs["new"], "ratios": [round(x, 3) for x in ratios],
            "median_ratio": round(statistics.median(ratios), 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True, help="the baseline build's sockserv")
    parser.add_argument("--new", required=True, help="the changed build's sockserv")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", default="epoll,uring,poll")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--chat-models", default="epoll,uring",
                        help="chat fan-out models (empty: skip chat)")
    parser.add_argument("--chat-rounds", type=int, default=3,
                        help="rounds for chat fan-out, whose runs are long")
    parser.add_argument("--quick", action="store_true", help="chat fan-out's quick settings")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    old, new = os.path.abspath(args.old), os.path.abspath(args.new)

    results = {"old": old, "new": new, "machine": machine.described(CORES),
               "load_average_before": os.getloadavg(), "echo": {}, "chat": {}}
    for model in filter(None, args.models.split(",")):
        results["echo"][model] = paired(lambda b: echo_once(b, new, model, args), old, new,
                                        args.rounds)
        print(f"echo {model}: {results['echo'][model]}", flush=True)
    cfg = chat_fanout.QUICK if args.quick else chat_fanout.FULL
    for label in filter(None, args.chat_models.split(",")):
        results["chat"][label] = paired(lambda b: chat_once(b, new, label, cfg), old, new,
                                        args.chat_rounds)
        print(f"chat {label}: {results['chat'][label]}", flush=True)
    results["load_average_after"] = os.getloadavg()
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "paired.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = [[f"echo {m}", "requests/s", f"{statistics.median(r['old']):,.0f}",
             f"{statistics.median(r['new']):,.0f}", f"{r['median_ratio']:.3f}",
             f"{min(r['ratios']):.3f}-{max(r['ratios']):.3f}"] for m, r in results["echo"].items()]
    rows += [[f"chat {m}", "deliveries per server CPU-s", f"{statistics.median(r['old']):,.0f}",
              f"{statistics.median(r['new']):,.0f}", f"{r['median_ratio']:.3f}",
              f"{min(r['ratios']):.3f}-{max(r['ratios']):.3f}"] for m, r in results["chat"].items()]
    text = (f"# Paired: new against old, alternating rounds ({args.rounds} echo, "
            f"{args.chat_rounds} chat fan-out)\n\n"
            f"old: `{old}`  \nnew: `{new}`  \nload average before/after: "
            f"{results['load_average_before'][0]:.2f} / {results['load_average_after'][0]:.2f}\n\n"
            + "\n".join(report.table(["what", "figure", "old (median)>", "new (median)>",
                                      "new/old (median of rounds)>", "range of rounds>"], rows))
            + "\n")
    (out / "paired.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
