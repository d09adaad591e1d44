#!/usr/bin/python3
"""Connection churn against real sockserv servers, watched for leaks.

For each model (epoll, uring, and epoll with --threads 2) this starts
`sockserv serve -q --model M tcp://127.0.0.1:0/echo`, reads the port from
its "listening ..." line, and keeps --connections client connections open at
once for --seconds: each connects, sends one line, reads its echo and
checks it byte for byte, stays open a moment (up to HOLD_MAX seconds, so
the server really holds about that many at once), then half-closes and
reads to the server's close. One in sixteen instead closes with a reset
before its answer comes, as a vanished client does. As each connection
ends, a new one takes its place.

Every --interval seconds the server's resident memory, open descriptors and
threads are read from /proc. A model fails on:
  - any client error: a refused or timed-out connection, a reset, a wrong
    or short echo;
  - a descriptor leak: more descriptors open once the load has gone than
    when the server was idle before it;
  - memory drift: resident memory more than --drift (5%) above its level at
    the end of the warm-up (the first minute, or a sixth of a shorter run),
    since a server under steady churn must reach a steady size;
  - the server dying, or not exiting 0 when stopped.

`sockserv bench` keeps each of its connections for the whole run
(--connect-rate only paces the first opens), so it cannot churn; this
client is one thread with non-blocking sockets (selectors), needs nothing
beyond the standard library, and bounds every wait. Usage:

    SOCKSERV=build/sockserv tests/soak/soak.py --seconds 600
"""

import argparse
import errno
import heapq
import os
import re
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

MODELS = {
    "epoll": ["--model", "epoll"],
    "uring": ["--model", "uring"],
    "epoll-threads2": ["--model", "epoll", "--threads", "2"],
}

START_TIMEOUT = 10.0  # For the server's "listening" line.
CONNECTION_TIMEOUT = 10.0  # One connection, connect to close; load is expected.
DRAIN_TIMEOUT = 15.0  # For connections in flight when the run ends.
SETTLE_TIMEOUT = 10.0  # For the server to close what the clients closed.
STOP_TIMEOUT = 15.0  # For the server to exit after SIGTERM (grace is 5 s).
ABORT_EVERY = 16  # One connection in this many vanishes with a reset.
HOLD_MAX = 0.4  # Longest a connection stays open after its echo, seconds.


# ---- The server and what /proc says about it ---------------------------------


class Server:
    """A sockserv serve process with its stderr drained into a list."""

    def __init__(self, sockserv, options):
        self.command = [sockserv, "serve", "-q", *options, "tcp://127.0.0.1:0/echo"]
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.log = []
        self.port = None
        self._listening = threading.Event()
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()
        threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True).start()
        if not self._listening.wait(START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"{' '.join(self.command)}: no 'listening' line: {self.log[-5:]}")

    def _read(self, stream):
        for line in stream:
            match = re.match(r"listening tcp://127\.0\.0\.1:(\d+)/echo", line)
            if match and self.port is None:
                self.port = int(match.group(1))
                self._listening.set()
            else:
                self.log.append(line.rstrip("\n"))

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        """SIGTERM, then the exit status (None when it had to be killed)."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


def proc_sample(pid):
    """(rss KiB, descriptors, threads) of a live process."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd")), threads


# ---- The churning client --------------------------------------------------------


class Connection:
    __slots__ = ("sock", "number", "message", "sent", "received", "started", "abort", "shut")

    def __init__(self, sock, number):
        self.sock = sock
        self.number = number
        # Sizes vary from a few bytes to a few hundred, so no two reads match.
        filler = "x" * (number * 7 % 300)
        self.message = f"soak {number} {filler}\n".encode()
        self.sent = 0
        self.received = bytearray()
        self.started = time.monotonic()
        self.abort = number % ABORT_EVERY == 0
        self.shut = False  # Half-closed: only the server's close is awaited.


class Churn:
    """Keeps `target` connections to port open, replacing each as it ends."""

    def __init__(self, port, target):
        self.address = ("127.0.0.1", port)
        self.target = target
        self.selector = selectors.DefaultSelector()
        self.open = {}
        self.started = 0
        self.completed = 0
        self.aborted = 0
        self.errors = {}
        self.error_examples = []
        self.opening = True
        self.held = []  # Heap of (release time, number, connection).

    def error(self, conn, what):
        self.errors[what] = self.errors.get(what, 0) + 1
        if len(self.error_examples) < 5:
            self.error_examples.append(f"connection {conn.number}: {what}")
        self.close(conn)

    def close(self, conn, reset=False):
        self.selector.unregister(conn.sock)
        del self.open[conn.sock.fileno()]
        if reset:
            # SO_LINGER 0: close sends a reset, as a client that vanished.
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sock.close()

    def top_up(self):
        while self.opening and len(self.open) < self.target:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            conn = Connection(sock, self.started)
            self.started += 1
            self.open[sock.fileno()] = conn
            self.selector.register(sock, selectors.EVENT_WRITE, conn)
            rc = sock.connect_ex(self.address)
            if rc not in (0, errno.EINPROGRESS):
                self.error(conn, f"connect: {os.strerror(rc)}")

    def on_writable(self, conn):
        if conn.sent == 0:
            rc = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if rc != 0:
                return self.error(conn, f"connect: {os.strerror(rc)}")
        try:
            conn.sent += conn.sock.send(conn.message[conn.sent :])
        except BlockingIOError:
            return
        except OSError as e:
            return self.error(conn, f"send: {e.strerror}")
        if conn.sent < len(conn.message):
            return
        if conn.abort:
            self.aborted += 1
            return self.close(conn, reset=True)
        self.selector.modify(conn.sock, selectors.EVENT_READ, conn)

    def on_readable(self, conn):
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as e:
            return self.error(conn, f"recv: {e.strerror}")
        if data:
            conn.received += data
            if len(conn.received) > len(conn.message):
                self.error(conn, "echo longer than the message")
            elif len(conn.received) == len(conn.message):
                hold = (conn.number % 5) * HOLD_MAX / 4
                heapq.heappush(self.held, (time.monotonic() + hold, conn.number, conn))
            return
        if not conn.shut:
            return self.error(conn, "the server closed before the client did")
        if conn.received != conn.message:
            return self.error(conn, f"echo of {len(conn.received)}/{len(conn.message)} bytes differs")
        self.completed += 1
        self.close(conn)

    def release_held(self, now):
        """Half-closes each connection whose hold is over."""
        while self.held and self.held[0][0] <= now:
            conn = heapq.heappop(self.held)[2]
            if conn.sock.fileno() < 0:
                continue  # Already ended, by an error.
            try:
                conn.sock.shutdown(socket.SHUT_WR)
            except OSError as e:
                self.error(conn, f"shutdown: {e.strerror}")
                continue
            conn.shut = True

    def expire(self, now):
        for conn in list(self.open.values()):
            if now - conn.started > CONNECTION_TIMEOUT:
                self.error(conn, "timed out")

    def run_for(self, seconds, tick, every):
        """Churns for seconds, calling tick() every `every` seconds."""
        start = time.monotonic()
        next_tick = start + every
        next_expiry = start + 1.0
        while True:
            now = time.monotonic()
            if now >= start + seconds:
                break
            if now >= next_tick:
                tick()
                next_tick += every
            if now >= next_expiry:
                self.expire(now)
                next_expiry = now + 1.0
            self.release_held(now)
            self.top_up()
            wake = min(next_tick, start + seconds, self.held[0][0] if self.held else now + 1)
            self.poll(wake - now)
        return time.monotonic() - start

    def poll(self, timeout):
        for key, events in self.selector.select(max(0.0, min(timeout, 0.5))):
            conn = key.data
            if conn.sock.fileno() not in self.open:
                continue  # Closed earlier in this batch.
            if events & selectors.EVENT_WRITE:
                self.on_writable(conn)
            elif events & selectors.EVENT_READ:
                self.on_readable(conn)

    def drain(self):
        """Stops opening and lets what is in flight finish, bounded."""
        self.opening = False
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while self.open and time.monotonic() < deadline:
            self.expire(time.monotonic())
            self.release_held(time.monotonic())
            self.poll(0.05)
        for conn in list(self.open.values()):
            self.error(conn, "still open at the end")


# ---- One model's soak -----------------------------------------------------------


def soak_model(name, options, args):
    print(f"== {name}: sockserv serve {' '.join(options)}, "
          f"{args.connections} connections, {args.seconds} s", flush=True)
    server = Server(args.sockserv, options)
    failures = []
    samples = []  # (seconds, connections done, rss, fds, threads)
    try:
        time.sleep(0.5)
        idle = proc_sample(server.pid)
        churn = Churn(server.port, args.connections)
        began = time.monotonic()

        def tick():
            if not server.alive():
                raise RuntimeError("the server died")
            sample = proc_sample(server.pid)
            at = time.monotonic() - began
            samples.append((at, churn.completed, *sample))
            print(f"   {at:6.0f} s {churn.completed:>9} done  rss {sample[0]:>7} KiB  "
                  f"fds {sample[1]:>5}  threads {sample[2]:>3}", flush=True)

        elapsed = churn.run_for(args.seconds, tick, args.interval)
        tick()
        churn.drain()
        # The clients have all closed; give the server time to close too.
        deadline = time.monotonic() + SETTLE_TIMEOUT
        end = proc_sample(server.pid)
        while end[1] > idle[1] and time.monotonic() < deadline:
            time.sleep(0.2)
            end = proc_sample(server.pid)
    except RuntimeError as e:
        failures.append(str(e))
        status = server.stop()
        return {"name": name, "failures": failures, "log": server.log}
    status = server.stop()

    warmup = min(60.0, args.seconds / 6)
    after = [s for s in samples if s[0] >= warmup - 0.5]
    baseline = after[0][2] if after else samples[-1][2]
    peak_after = max((s[2] for s in after), default=baseline)
    drift = (peak_after - baseline) / baseline * 100 if baseline else 0.0

    if churn.errors:
        failures.append(f"{sum(churn.errors.values())} client errors: {churn.errors}")
    if end[1] > idle[1]:
        failures.append(f"descriptor leak: {end[1]} open after the load, {idle[1]} before it")
    if drift > args.drift:
        failures.append(f"memory drift {drift:.1f}% after warm-up (limit {args.drift}%)")
    if status != 0:
        failures.append(f"server exit status {status} on SIGTERM")
    return {
        "name": name,
        "failures": failures,
        "examples": churn.error_examples,
        "log": server.log,
        "done": churn.completed,
        "aborted": churn.aborted,
        "rate": (churn.completed + churn.aborted) / elapsed,
        "errors": sum(churn.errors.values()),
        "fds": (idle[1], max(s[3] for s in samples), end[1]),
        "rss": (idle[0], baseline, peak_after, end[0]),
        "drift": drift,
        "threads": (idle[2], max(s[4] for s in samples)),
    }


def print_summary(results, args):
    print()
    print(f"soak: {args.seconds} s per model, {args.connections} concurrent connections, "
          f"memory drift limit {args.drift}% after warm-up")
    header = (f"{'model':<14} {'echoed':>9} {'reset':>7} {'conn/s':>7} {'errors':>6}  "
              f"{'fds idle/max/end':>16}  {'rss KiB idle/warm/max/end':>27} {'drift':>6}  "
              f"{'threads':>7}  result")
    print(header)
    print("-" * len(header))
    for r in results:
        result = "ok" if not r["failures"] else "FAILED"
        if "done" not in r:
            print(f"{r['name']:<14} {'-':>9} {'-':>7} {'-':>7} {'-':>6}  {'-':>16}  {'-':>27} "
                  f"{'-':>6}  {'-':>7}  {result}")
            continue
        fds = "/".join(str(v) for v in r["fds"])
        rss = "/".join(str(v) for v in r["rss"])
        threads = "/".join(str(v) for v in r["threads"])
        print(f"{r['name']:<14} {r['done']:>9} {r['aborted']:>7} {r['rate']:>7.0f} {r['errors']:>6}  "
              f"{fds:>16}  {rss:>27} {r['drift']:>5.1f}%  {threads:>7}  {result}")
    for r in results:
        for failure in r["failures"]:
            print(f"{r['name']}: {failure}")
        for example in r.get("examples", []) if r["failures"] else []:
            print(f"{r['name']}:   e.g. {example}")
        if r["failures"] and r["log"]:
            print(f"{r['name']}: server log ({len(r['log'])} lines), last lines:")
            for line in r["log"][-5:]:
                print(f"    {line}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600, help="churn per model (600)")
    parser.add_argument("--connections", type=int, default=1000, help="open at once (1000)")
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples")
    parser.add_argument("--drift", type=float, default=5.0, help="memory drift limit, percent")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated: "
                        + ", ".join(MODELS))
    args = parser.parse_args()
    args.sockserv = os.environ.get("SOCKSERV", "build/sockserv")
    if args.seconds < 6 * args.interval:
        parser.error(f"--seconds must be at least {6 * args.interval:.0f} "
                     f"(six samples at --interval {args.interval:.0f})")

    # The clients' descriptors and the server's (it inherits the limit),
    # with room to spare; a limit already higher is kept.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * args.connections + 100
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            parser.error(f"--connections {args.connections} needs {wanted} descriptors; "
                         f"the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    results = []
    for name in args.models.split(","):
        if name not in MODELS:
            parser.error(f"unknown model {name!r} (use {', '.join(MODELS)})")
        results.append(soak_model(name, MODELS[name], args))
    print_summary(results, args)
    return 1 if any(r["failures"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
