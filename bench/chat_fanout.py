#!/usr/bin/env python3
"""
Chat fan-out: 1,000 clients in one room, for each model that serves chat.

For each of select, poll, epoll, uring, thread and epoll --threads 2: a
fresh `sockserv serve -m MODEL tcp://127.0.0.1:0/chat` pinned to the first
core; 1,000 receiving clients in the lobby, spread over 4 receiver
processes (selectors over non-blocking sockets), and 4 sending clients in
one sender process, all on the other core. Then two phases:

  fixed      the senders send timestamped lines at a fixed offered rate
             (20 lines/s in all for 5 s); each line reaches the 1,000
             receivers, so about 20,000 deliveries/s
  saturate   the senders send as fast as the deliveries keep up: at most 64
             lines in flight (sent but not yet delivered to every receiver),
             for 5 s, so that no receiver ever falls behind far enough to be
             dropped as too slow

Each line carries its phase, its sender, the sender's sequence number and
time.monotonic_ns() at sending (CLOCK_MONOTONIC, one clock for every process
on the machine). Each receiver takes the delivery latency of every line,
and checks that it got every line exactly once and in each sender's order.
The server's CPU time over each phase (utime+stime from /proc/PID/stat) is
read too: below one core's worth, the receivers (Python) were the limit, and
deliveries per server CPU-second estimates what the server would do.

Writes bench/results/chat_fanout.{json,md} (--quick: a new temporary
directory unless --out says where).

usage: bench/chat_fanout.py [--quick] [--models select,poll,epoll,uring,thread,epoll-t2]
                            [--out DIR]
--quick: 100 receivers, 0.5 s phases.
"""

import argparse
import datetime
import multiprocessing as mp
import os
import re
import selectors
import socket
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench.lib import machine, procfs, report, servers  # noqa: E402
from bench.lib.cores import DEFAULT as CORES  # noqa: E402

FULL = {"receivers": 1000, "receiver_processes": 4, "senders": 4, "rate": 20.0,
        "fixed_s": 5.0, "saturate_s": 5.0, "window": 64, "line_bytes": 64, "drain_s": 15.0,
        "saturate_batch_s": 0.002, "settle_s": 1.0}
QUICK = {"receivers": 100, "receiver_processes": 4, "senders": 2, "rate": 20.0,
         "fixed_s": 0.5, "saturate_s": 0.5, "window": 64, "line_bytes": 64, "drain_s": 5.0,
         "saturate_batch_s": 0.002, "settle_s": 0.2}
# (label, model, extra server options)
MODELS = {
    "select": ("select", []),
    "poll": ("poll", []),
    "epoll": ("epoll", []),
    "uring": ("uring", []),
    "thread": ("thread", []),
    "epoll-t2": ("epoll", ["--threads", "2"]),
}
# The saturate phase runs three times; the report takes the median.
PHASES = ["fixed", "saturate1", "saturate2", "saturate3"]
SATURATE = PHASES[1:]
MESSAGE = re.compile(rb"M (\d) (\d+) (\d+) (\d+) ")


# The receivers are Python, so their latencies are kept here: a histogram
# that crosses process boundaries (as JSON-able counts) and merges.
class Histogram:
    """Log-linear: 64 buckets per power of two of nanoseconds (about 1.1%
    resolution), as a dict so it crosses process boundaries as JSON."""

    SUB = 64

    def __init__(self, counts=None):
        self.counts = dict(counts or {})
        self.n = sum(self.counts.values())

    def bucket(self, ns):
        if ns < self.SUB:
            return max(ns, 0)
        e = ns.bit_length() - 7  # ns >> e lands in [64, 128)
        return (e + 1) * self.SUB + ((ns >> e) - self.SUB)

    def value(self, b):
        if b < self.SUB:
            return b
        e = b // self.SUB - 1
        return ((b % self.SUB) + self.SUB) << e

    def add(self, ns):
        b = self.bucket(ns)
        self.counts[b] = self.counts.get(b, 0) + 1
        self.n += 1

    def merge(self, other_counts):
        for b, c in other_counts.items():
            b = int(b)
            self.counts[b] = self.counts.get(b, 0) + c
            self.n += c

    def percentile(self, p):
        if not self.n:
            return None
        rank = p / 100 * self.n
        seen = 0
        for b in sorted(self.counts):
            seen += self.counts[b]
            if seen >= rank:
                return self.value(b)
        return self.value(max(self.counts))

    def summary_us(self):
        if not self.n:
            return None
        return {k: round(self.percentile(p) / 1000, 1)
                for k, p in (("p50", 50), ("p90", 90), ("p99", 99), ("p99_9", 99.9),
                             ("max", 100))}


def read_ready(sel, timeout):
    """Yields (key, data) for each socket sel finds readable. data b"" is
    the end of the stream, or a failed socket; that socket is unregistered."""
    for key, _ in sel.select(timeout):
        try:
            data = key.fileobj.recv(262144)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            sel.unregister(key.fileobj)
        yield key, data


# -- Receivers ----------------------------------------------------------------

def receiver(index, port, count, senders, delivered, ready, stop, batch, results):
    """One receiver process: count clients, each reading every line. While
    batch.value is above 0 (the saturate phase), it pauses that many seconds
    between sweeps, so that each recv takes many lines at once: Python's
    cost is per call, and the receivers, not the server, are the first
    limit. The pause adds at most that much to the latencies it measures."""
    CORES.pin_this_process_to_load()
    sel = selectors.DefaultSelector()
    clients = []
    welcomed = 0
    closed = 0
    left_notices = 0
    hist = [Histogram() for _ in PHASES]
    counts = [0 for _ in PHASES]
    last_ns = [0 for _ in PHASES]
    anomalies = [{"gap": 0, "duplicate_or_reordered": 0} for _ in PHASES]
    first_anomaly = None
    # Fixed phase only: per line (sender, seq), the first and last delivery
    # latency among this process's clients, so the report can tell the time
    # to the first receiver from the time to the whole room.
    per_line = {}
    # expected[client][phase * senders + sender]: the next sequence number due.
    expected = []
    tails = []
    total = 0
    deadline = time.monotonic() + 600

    def handle(i, data, now):
        nonlocal welcomed, closed, left_notices, total, first_anomaly
        buf = tails[i] + data
        cut = buf.rfind(b"\n")
        if cut < 0:
            tails[i] = buf
            return
        tails[i] = buf[cut + 1:]
        body = buf[:cut + 1]
        if b"***" in body:
            if b"*** welcome" in body:
                welcomed += body.count(b"*** welcome")
            left_notices += body.count(b"too slow")
        exp = expected[i]
        for phase, sender, seq, sent_ns in MESSAGE.findall(body):
            p = int(phase)
            key = p * senders + int(sender)
            seq = int(seq)
            want = exp[key]
            if seq == want:
                exp[key] = want + 1
            elif seq > want:
                anomalies[p]["gap"] += seq - want
                exp[key] = seq + 1
                first_anomaly = first_anomaly or f"client {index}.{i}: sender {sender} phase {p} seq {seq} after {want - 1}"
            else:
                anomalies[p]["duplicate_or_reordered"] += 1
                first_anomaly = first_anomaly or f"client {index}.{i}: sender {sender} phase {p} seq {seq} again or late (next due {want})"
            lat = now - int(sent_ns)
            hist[p].add(lat)
            if p == 0:
                span = per_line.get(key * 1000000 + seq)
                if span is None:
                    per_line[key * 1000000 + seq] = [lat, lat]
                elif lat < span[0]:
                    span[0] = lat
                elif lat > span[1]:
                    span[1] = lat
            counts[p] += 1
            last_ns[p] = now
            total += 1

    def pump(timeout):
        """Reads every ready socket first, each read stamped with the time it
        returned, and only then parses: so a line's latency does not include
        the parsing of lines that happened to be read before it."""
        nonlocal closed
        got = []
        for key, data in read_ready(sel, timeout):
            if not data:
                closed += 1
                continue
            got.append((key.data, data, time.monotonic_ns()))
        for i, data, now in got:
            handle(i, data, now)
        delivered[index] = total

    try:
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.setblocking(False)
            clients.append(s)
            expected.append([0] * (len(PHASES) * senders))
            tails.append(b"")
            sel.register(s, selectors.EVENT_READ, i)
            if i % 10 == 9:
                pump(0)
        while welcomed < count and time.monotonic() < deadline and not stop.is_set():
            pump(0.05)
        ready[index] = 1
        while not stop.is_set() and time.monotonic() < deadline:
            pump(0.02)
            if batch.value > 0:
                time.sleep(batch.value)
        # One last sweep for whatever already arrived.
        pump(0)
        results.send({
            "index": index, "clients": count, "welcomed": welcomed, "closed": closed,
            "too_slow_notices": left_notices, "counts": counts, "last_ns": last_ns,
            "histograms": [h.counts for h in hist], "anomalies": anomalies,
            "first_anomaly": first_anomaly, "per_line": per_line,
            # per client, per phase and sender: how many arrived in order
            "received_in_order": expected,
        })
    except OSError as e:
        ready[index] = -1
        results.send({"index": index, "error": f"{type(e).__name__}: {e}"})
    finally:
        for s in clients:
            s.close()


# -- Senders ------------------------------------------------------------------

def sender(port, cfg, delivered, receivers, control):
    """The sender process: cfg['senders'] clients; runs the phases it is told
    to run and reports what it sent."""
    CORES.pin_this_process_to_load()
    n = cfg["senders"]
    socks = []
    sel = selectors.DefaultSelector()
    welcomed = 0

    def drain(timeout):
        nonlocal welcomed
        for _, data in read_ready(sel, timeout):
            welcomed += data.count(b"*** welcome")

    try:
        for k in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.setblocking(False)
            socks.append(s)
            sel.register(s, selectors.EVENT_READ, k)
        deadline = time.monotonic() + 30
        while welcomed < n and time.monotonic() < deadline:
            drain(0.05)
        control.send({"event": "ready", "welcomed": welcomed})
        while True:
            if not control.poll(0.05):
                drain(0)
                continue
            cmd = control.recv()
            if cmd["cmd"] == "quit":
                break
            control.send(run_phase(cmd, cfg, socks, drain, delivered, receivers))
    except OSError as e:
        control.send({"event": "error", "error": f"{type(e).__name__}: {e}"})
    finally:
        for s in socks:
            s.close()


def run_phase(cmd, cfg, socks, drain, delivered, receivers):
    n = len(socks)
    phase, duration = cmd["phase"], cmd["duration"]
    size = cfg["line_bytes"]
    seq = [0] * n
    pending = [b""] * n  # unsent bytes of a line the kernel did not take whole
    behind = 0
    blocked = 0
    window = cfg["window"]
    base_delivered = sum(delivered)
    sent_total = 0
    start = time.monotonic_ns()
    end = start + int(duration * 1e9)
    interval = int(1e9 / cmd["rate"]) if cmd.get("rate") else 0
    next_at = start
    k = 0
    hard_stop = time.monotonic() + duration + 30

    def line(k):
        head = b"M %d %d %d %d " % (phase, k, seq[k], time.monotonic_ns())
        return head + b"x" * max(0, size - len(head) - 1) + b"\n"

    def flush(k):
        nonlocal blocked
        if pending[k]:
            try:
                sent = socks[k].send(pending[k])
                pending[k] = pending[k][sent:]
            except BlockingIOError:
                blocked += 1
        return not pending[k]

    while time.monotonic() < hard_stop:
        now = time.monotonic_ns()
        if now >= end:
            break
        if interval:
            # Open loop: line j is due at start + j * interval, senders in turn.
            if now < next_at:
                drain(min(0.05, (next_at - now) / 1e9))
                continue
            if now - next_at > 1_000_000:
                behind += 1
            next_at += interval
        else:
            # As fast as deliveries keep up: at most `window` lines in flight.
            outstanding = sent_total * receivers - (sum(delivered) - base_delivered)
            if outstanding >= window * receivers:
                drain(0.0005)
                continue
        if not flush(k):
            drain(0.0005)
            continue
        pending[k] = line(k)
        seq[k] += 1
        sent_total += 1
        flush(k)
        k = (k + 1) % n
        drain(0)
    # Whatever a full socket buffer still held goes out now.
    flush_deadline = time.monotonic() + 10
    while any(pending) and time.monotonic() < flush_deadline:
        for j in range(n):
            flush(j)
        drain(0.001)
    return {"event": "done", "phase": phase, "sent": seq, "sent_total": sent_total,
            "first_ns": start, "end_ns": time.monotonic_ns(), "behind_schedule": behind,
            "send_blocked": blocked, "unsent": sum(len(p) for p in pending)}


# -- One model -------------------------------------------------------------------

def run_model(sockserv, label, cfg):
    model, extra = MODELS[label]
    options = list(extra)
    conns = cfg["receivers"] + cfg["senders"]
    if model == "thread":
        options += ["--max-conns", str(conns + 100)]
    if model == "select":
        # select's default is 960; the descriptors of 1,004 clients still fit
        # below FD_SETSIZE (1024), so it is let try.
        options += ["--max-conns", str(min(conns + 4, 1016))]
    argv = [sockserv, "serve", "-q", "-m", model, *options, "tcp://127.0.0.1:0/chat"]
    record = {"label": label, "command": " ".join(CORES.on_server_cores(argv)),
              "load_average_before": procfs.load_average()}
    ctx = mp.get_context("fork")
    nproc = cfg["receiver_processes"]
    delivered = ctx.Array("q", nproc, lock=False)
    ready = ctx.Array("i", nproc, lock=False)
    stop = ctx.Event()
    batch = ctx.Value("d", 0.0, lock=False)
    procs, pipes = [], []
    sender_proc = None
    control = None
    try:
        server = servers.MeasuredServer(argv, CORES)
    except RuntimeError as e:
        record.update(status="failed", reason=f"server did not start: {e}")
        return record
    try:
        pid = server.pid
        t = time.monotonic()
        per = [cfg["receivers"] // nproc + (1 if i < cfg["receivers"] % nproc else 0)
               for i in range(nproc)]
        for i in range(nproc):
            mine, theirs = ctx.Pipe(duplex=False)
            p = ctx.Process(target=receiver, args=(i, server.port, per[i], cfg["senders"],
                                                   delivered, ready, stop, batch, theirs),
                            daemon=True)
            p.start()
            theirs.close()
            procs.append(p)
            pipes.append(mine)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(ready):
            time.sleep(0.05)
        if not all(r == 1 for r in ready):
            raise RuntimeError(f"receivers not all in the room after 60 s: ready {list(ready)}; "
                               f"server {'alive' if server.alive() else 'dead'}")
        record["receivers_joined_s"] = round(time.monotonic() - t, 2)
        control, theirs = ctx.Pipe()
        sender_proc = ctx.Process(target=sender, args=(server.port, cfg, delivered,
                                                       cfg["receivers"], theirs), daemon=True)
        sender_proc.start()
        theirs.close()
        if not control.poll(40):
            raise RuntimeError("senders did not connect within 40 s")
        hello = control.recv()
        if hello.get("event") != "ready":
            raise RuntimeError(f"senders failed: {hello.get('error')}")
        time.sleep(cfg["settle_s"])  # the senders' join notices drain
        phases = []
        for p_index, name in enumerate(PHASES):
            cmd = {"cmd": "run", "phase": p_index,
                   "duration": cfg["fixed_s"] if name == "fixed" else cfg["saturate_s"],
                   "rate": cfg["rate"] if name == "fixed" else None}
            batch.value = cfg["saturate_batch_s"] if name in SATURATE else 0.0
            base = sum(delivered)
            cpu0, t0, steal0 = procfs.cpu_seconds(pid), time.monotonic(), procfs.steal_seconds()
            others = machine.other_benchmarks()
            control.send(cmd)
            if not control.poll(cmd["duration"] + 60):
                raise RuntimeError(f"sender did not finish phase {name}")
            done = control.recv()
            if done.get("event") != "done":
                raise RuntimeError(f"sender failed in phase {name}: {done.get('error')}")
            want = base + done["sent_total"] * cfg["receivers"]
            drain_deadline = time.monotonic() + cfg["drain_s"]
            while sum(delivered) < want and time.monotonic() < drain_deadline:
                time.sleep(0.01)
            cpu1, t1 = procfs.cpu_seconds(pid), time.monotonic()
            done["steal_s"] = round(procfs.steal_seconds() - steal0, 3)
            done["other_benchmarks"] = others
            done["server_cpu_s"] = round(cpu1 - cpu0, 3)
            done["wall_s"] = round(t1 - t0, 3)
            done["drained"] = sum(delivered) >= want
            phases.append(done)
            time.sleep(cfg["settle_s"] / 2)
        control.send({"cmd": "quit"})
        stop.set()
        reports = []
        for pipe in pipes:
            if pipe.poll(30):
                reports.append(pipe.recv())
        record["server_alive_at_end"] = server.alive()
        record.update(summarize(cfg, phases, reports))
    except (RuntimeError, OSError, EOFError) as e:
        record.update(status="failed", reason=str(e))
    finally:
        stop.set()
        if control is not None:
            try:
                control.send({"cmd": "quit"})
            except OSError:
                pass
        for p in procs + ([sender_proc] if sender_proc else []):
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()
        tail = server.close()
        if tail:
            record["server_stderr_tail"] = tail
    record["load_average_after"] = procfs.load_average()
    return record


def summarize(cfg, phases, reports):
    out = {"phases": {}, "receiver_reports": len(reports)}
    errors = [r["error"] for r in reports if "error" in r]
    reports = [r for r in reports if "error" not in r]
    if errors:
        out["receiver_errors"] = errors
    senders = cfg["senders"]
    all_exact = True
    for p_index, name in enumerate(PHASES):
        done = phases[p_index]
        hist = Histogram()
        deliveries = 0
        last_ns = 0
        exact_clients = 0
        missing = 0
        for r in reports:
            hist.merge(r["histograms"][p_index])
            deliveries += r["counts"][p_index]
            last_ns = max(last_ns, r["last_ns"][p_index])
            for got in r["received_in_order"]:
                row = got[p_index * senders:(p_index + 1) * senders]
                if row == done["sent"]:
                    exact_clients += 1
                missing += sum(max(0, s - g) for s, g in zip(done["sent"], row))
        expected = done["sent_total"] * cfg["receivers"]
        span_s = (last_ns - done["first_ns"]) / 1e9 if last_ns else None
        gaps = sum(r["anomalies"][p_index]["gap"] for r in reports)
        dups = sum(r["anomalies"][p_index]["duplicate_or_reordered"] for r in reports)
        # A client counts as exact when, for every sender, it got exactly the
        # lines that sender sent, each once, in order (no gap, no duplicate).
        exact = (exact_clients == cfg["receivers"] and gaps == 0 and dups == 0
                 and deliveries == expected)
        all_exact = all_exact and exact
        rate = deliveries / span_s if span_s else 0
        out["phases"][name] = {
            "lines_sent": done["sent_total"], "per_sender": done["sent"],
            "send_s": round((done["end_ns"] - done["first_ns"]) / 1e9, 3),
            "offered_lines_per_s": cfg["rate"] if name == "fixed" else None,
            "behind_schedule": done["behind_schedule"], "send_blocked": done["send_blocked"],
            "deliveries_expected": expected, "deliveries": deliveries,
            "deliveries_per_s": round(rate, 1), "span_s": round(span_s, 3) if span_s else None,
            "latency_us": hist.summary_us(),
            "clients_exact": exact_clients, "missing": missing, "gaps": gaps,
            "duplicates_or_reordered": dups, "exactly_once_in_order": exact,
            "server_cpu_s": done["server_cpu_s"], "phase_wall_s": done["wall_s"],
            "server_cpu_share": round(done["server_cpu_s"] / done["wall_s"], 3),
            "deliveries_per_server_cpu_s": round(deliveries / done["server_cpu_s"], 0)
            if done["server_cpu_s"] else None,
            "drained": done["drained"], "steal_s": done["steal_s"],
            "other_benchmarks": done["other_benchmarks"],
        }
    # Fixed phase: for each line, the latency to its first and to its last
    # receiver (over every receiver process).
    spans = {}
    for r in reports:
        for key, (lo, hi) in r["per_line"].items():
            have = spans.get(key)
            spans[key] = [lo, hi] if have is None else [min(have[0], lo), max(have[1], hi)]
    first, last = Histogram(), Histogram()
    for lo, hi in spans.values():
        first.add(lo)
        last.add(hi)
    out["phases"]["fixed"]["first_receiver_latency_us"] = first.summary_us()
    out["phases"]["fixed"]["last_receiver_latency_us"] = last.summary_us()
    # The saturation figure: the median of the three saturate runs.
    runs = sorted((out["phases"][n] for n in SATURATE), key=lambda ph: ph["deliveries_per_s"])
    out["saturate_median"] = dict(runs[len(runs) // 2])
    out["saturate_median"]["all_deliveries_per_s"] = [out["phases"][n]["deliveries_per_s"]
                                                      for n in SATURATE]
    out["saturate_median"]["all_per_server_cpu_s"] = [
        out["phases"][n]["deliveries_per_server_cpu_s"] for n in SATURATE]
    out["saturate_median"]["exactly_once_in_order"] = all(
        out["phases"][n]["exactly_once_in_order"] for n in SATURATE)
    out["too_slow_notices"] = sum(r["too_slow_notices"] for r in reports)
    out["receivers_closed"] = sum(r["closed"] for r in reports)
    out["first_anomaly"] = next((r["first_anomaly"] for r in reports if r["first_anomaly"]), None)
    out["status"] = "ok" if all_exact and len(reports) == cfg["receiver_processes"] else "errors"
    return out


# -- Report -----------------------------------------------------------------------

def markdown(results):
    cfg = results["settings"]
    lines = [
        "# sockserv: chat fan-out",
        "",
        f"Run {results['generated']} on {machine.sentence(results['machine'])}"
        + (" **Quick settings: a check of the script, not a measurement.**" if results["quick"]
           else ""),
        "",
        f"Command: `{results['command']}`. {cfg['receivers']:,} receiving clients in the lobby "
        f"(over {cfg['receiver_processes']} Python processes with selectors) and "
        f"{cfg['senders']} sending clients (one process), all on the load core; the server on "
        f"core 0. Lines are {cfg['line_bytes']} B plus the sender's nick. **fixed**: "
        f"{cfg['rate']:g} lines/s in all for {cfg['fixed_s']:g} s, so "
        f"{cfg['rate'] * cfg['receivers']:,.0f} deliveries/s offered. **saturate** (three runs, "
        "the median shown, all three in brackets): as fast as "
        f"deliveries keep up, at most {cfg['window']} lines in flight, for {cfg['saturate_s']:g} s; "
        f"receivers pause {cfg['saturate_batch_s'] * 1000:g} ms between sweeps so each read "
        "takes many lines (their latencies include that pause and the queueing of the "
        "window, so only the fixed phase's latencies describe the server). "
        "Deliveries/s = deliveries to the receivers / (last delivery - first send). Latency: "
        "from the send to the moment the receiver's recv() returned the line (each receiver "
        "process reads every ready socket before parsing any), every delivery. \"exact\": every receiver "
        "got every sender's lines exactly once and in that sender's order. Server CPU: "
        "utime+stime over the phase (including its drain) / the phase's wall time; "
        "deliveries per server CPU-second is the capacity estimate when the server was not "
        "the bottleneck (server CPU share well below 1.0 means the Python receivers were).",
        "",
    ]
    rows = []
    for r in results["runs"]:
        if r.get("status") == "failed":
            rows.append([label_of(r), f"failed: {r['reason']}"])
            continue
        for name, ph in (("fixed", r["phases"]["fixed"]),
                         ("saturate, median of 3", r["saturate_median"])):
            lat = ph["latency_us"] or {}
            exact = "yes" if ph["exactly_once_in_order"] else (
                f"**no**: {ph['clients_exact']}/{cfg['receivers']} clients exact, "
                f"{ph['missing']} missing, {ph['gaps']} gaps, "
                f"{ph['duplicates_or_reordered']} dup/reordered")
            rate = f"{ph['deliveries_per_s']:,.0f}"
            per_cpu = f"{ph['deliveries_per_server_cpu_s'] or 0:,.0f}"
            if "all_deliveries_per_s" in ph:
                rate += " (" + ", ".join(f"{x / 1000:,.0f}k" for x in ph["all_deliveries_per_s"]) + ")"
                per_cpu += " (" + ", ".join(f"{(x or 0) / 1000:,.0f}k"
                                            for x in ph["all_per_server_cpu_s"]) + ")"
            rows.append([
                label_of(r), name, f"{ph['lines_sent']:,}",
                f"{ph['deliveries']:,}/{ph['deliveries_expected']:,}", rate,
                report.fmt_us(lat.get("p50")), report.fmt_us(lat.get("p99")),
                report.fmt_us(lat.get("p99_9")), report.fmt_us(lat.get("max")), exact,
                f"{ph['server_cpu_share']:.2f}", per_cpu, f"{r['load_average_before'][0]:.1f}"])
    lines += report.table(
        ["server", "phase", "lines sent>", "deliveries>", "deliveries/s>", "p50>", "p99>",
         "p99.9>", "max>", "exact", "server CPU share>", "deliveries per server CPU-s>",
         "load avg"], rows)
    lines += [
        "",
        "Fixed phase, per line: latency to the FIRST receiver that read it (the server's "
        "reaction) and to the LAST (the whole room, which includes the Python receivers "
        f"working through {cfg['receivers']:,} sockets on one core). The server's CPU time "
        "per line (its CPU over the phase / lines sent, 10 ms tick resolution) bounds how "
        "long the server itself spends fanning one line out; the rest of the last "
        "receiver's latency is the receivers' own sweep.",
        "",
    ]
    rows = []
    for r in results["runs"]:
        if r.get("status") == "failed":
            continue
        fx = r["phases"]["fixed"]
        a, b = fx.get("first_receiver_latency_us") or {}, fx.get("last_receiver_latency_us") or {}
        per_line = (report.fmt_us(fx["server_cpu_s"] / fx["lines_sent"] * 1e6)
                    if fx["lines_sent"] else "-")
        rows.append([label_of(r), report.fmt_us(a.get("p50")), report.fmt_us(a.get("p99")),
                     report.fmt_us(b.get("p50")), report.fmt_us(b.get("p99")), per_line])
    lines += report.table(
        ["server", "first receiver p50>", "first p99>", "last receiver p50>", "last p99>",
         "server CPU per line (the fan-out's own cost)>"], rows)
    notes = []
    for r in results["runs"]:
        if r.get("status") == "failed":
            continue
        if r.get("too_slow_notices"):
            notes.append(f"{label_of(r)}: receivers saw {r['too_slow_notices']} "
                         "\"too slow\" notices (a client was dropped)")
        if r.get("receivers_closed"):
            notes.append(f"{label_of(r)}: {r['receivers_closed']} receiver connections were "
                         "closed by the server")
        if r.get("first_anomaly"):
            notes.append(f"{label_of(r)}: first anomaly: {r['first_anomaly']}")
        fx = r["phases"]["fixed"]
        if fx["behind_schedule"]:
            notes.append(f"{label_of(r)}: {fx['behind_schedule']} fixed-rate lines left over "
                         "1 ms late (the sender process was held up)")
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines)


def label_of(r):
    return {"epoll-t2": "epoll --threads 2"}.get(r["label"], r["label"])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 receivers, 0.5 s phases")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--out", help="where results go (default bench/results; with "
                        "--quick a new temporary directory)")
    args = parser.parse_args()
    servers.stop_on_sigterm()
    out_dir = report.output_dir(args.out, args.quick)
    labels = [x for x in args.models.split(",") if x]
    for x in labels:
        if x not in MODELS:
            parser.error(f"unknown model {x!r} (use {', '.join(MODELS)})")
    sockserv = servers.sockserv_binary()
    cfg = QUICK if args.quick else FULL
    results = {"generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "quick": args.quick, "command": " ".join(["bench/chat_fanout.py", *sys.argv[1:]]),
               "machine": machine.described(CORES), "settings": cfg, "runs": []}
    started = time.monotonic()
    try:
        for label in labels:
            rec = run_model(sockserv, label, cfg)
            results["runs"].append(rec)
            if rec.get("status") == "failed":
                report.log(f"chat {label:9} FAILED: {rec['reason']}")
                continue
            for name in PHASES:
                ph = rec["phases"][name]
                lat = ph["latency_us"] or {}
                report.log(f"chat {label:9} {name:8} {ph['deliveries']:>9,} deliveries "
                       f"{ph['deliveries_per_s']:>10,.0f}/s p50 {report.fmt_us(lat.get('p50'))} "
                       f"p99 {report.fmt_us(lat.get('p99'))} exact={ph['exactly_once_in_order']} "
                       f"server cpu {ph['server_cpu_share']:.2f}")
    except KeyboardInterrupt:
        report.log("interrupted: servers and clients killed, nothing written")
        return 130
    results["took_s"] = round(time.monotonic() - started, 1)
    results["load_average_at_end"] = procfs.load_average()
    paths = report.write_results("chat_fanout", results, markdown(results), out_dir)
    for path in paths:
        print(f"wrote {path}")
    return 0 if all(r.get("status") == "ok" for r in results["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
