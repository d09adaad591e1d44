#!/usr/bin/env python3
"""
A new client's connect-to-first-byte time while many idle connections are
held, under epoll, with --idle-timeout off and at its default (10m).

For each setting, in turns (--rounds of each, interleaved): a fresh
`sockserv serve -m epoll -q tcp://127.0.0.1:0/echo`; --idle connections
opened, each echoed one byte (so the server surely holds it) and then left
silent; then --tries new clients one after another, each timed from the
start of connect() to the first byte of its one-byte echo. Prints the
median, min and max per setting, in milliseconds.

The idle clients bind source addresses 127.0.0.2 onwards, 5,000 to an
address, so the runs never run short of ephemeral ports. This process and
the server each hold --idle descriptors: raise `ulimit -n` above it.

usage: bench/idle_first_byte.py [--idle N] [--tries N] [--rounds N] [--binary PATH]
"""

import argparse
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

PER_SOURCE = 5000
SETTINGS = {"off": ["--idle-timeout", "off"], "default": []}


def start_server(binary, options):
    proc = subprocess.Popen([binary, "serve", "-m", "epoll", "-q", *options,
                             "tcp://127.0.0.1:0/echo"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("listening tcp://"):
        proc.kill()
        sys.exit(f"the server did not start: {line!r}")
    port = int(line.strip().rsplit(":", 1)[1].split("/")[0])
    return proc, ("127.0.0.1", port)


def open_idle(addr, count, round_index):
    """count connections, each echoed once; returns the sockets."""
    socks = []
    sel = selectors.DefaultSelector()
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        source = 2 + (round_index * count + i) // PER_SOURCE
        s.bind((f"127.0.0.{source}", 0))
        s.setblocking(False)
        s.connect_ex(addr)
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE)
    pending = count
    deadline = time.monotonic() + 60
    while pending:
        if time.monotonic() > deadline:
            sys.exit(f"only {count - pending} of {count} idle connections opened")
        for key, _ in sel.select(timeout=1.0):
            key.fileobj.send(b"i")
            sel.modify(key.fileobj, selectors.EVENT_READ)
            pending -= 1
    pending = count
    while pending:
        if time.monotonic() > deadline:
            sys.exit(f"only {count - pending} of {count} idle connections echoed")
        for key, _ in sel.select(timeout=1.0):
            if key.fileobj.recv(1) != b"i":
                sys.exit("an idle connection was closed before it was echoed")
            sel.unregister(key.fileobj)
            pending -= 1
    sel.close()
    return socks


def first_byte_ms(addr):
    start = time.perf_counter()
    with socket.create_connection(addr, timeout=10) as s:
        s.sendall(b"x")
        if s.recv(1) != b"x":
            sys.exit("a new client got no echo")
        return (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, default=10000)
    parser.add_argument("--tries", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--binary", default=str(Path(__file__).resolve().parents[1] /
                                                "build" / "sockserv"))
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and hard < args.idle + 100:
        sys.exit(f"ulimit -n allows {hard} descriptors; --idle {args.idle} needs more")
    times = {name: [] for name in SETTINGS}
    for r in range(args.rounds):
        for k, (name, options) in enumerate(SETTINGS.items()):
            proc, addr = start_server(args.binary, options)
            try:
                idle = open_idle(addr, args.idle, r * len(SETTINGS) + k)
                times[name] += [first_byte_ms(addr) for _ in range(args.tries)]
                for s in idle:
                    s.close()
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    print(f"new client's connect-to-first-byte beside {args.idle} idle connections, epoll, "
          f"{args.rounds} x {args.tries} tries:")
    for name, ms in times.items():
        print(f"  --idle-timeout {name:8} median {statistics.median(ms):.3f} ms  "
              f"min {min(ms):.3f}  max {max(ms):.3f}")


if __name__ == "__main__":
    main()
