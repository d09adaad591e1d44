"""The chat fan-out's sending side: one process with a few chat clients that
sends numbered, timestamped lines in phases when told to, over a pipe. The
receivers are `sockserv bench --chat-receive` (bench.lib.loadgen.ChatReceivers);
this side reads how many lines they have had through its --progress-file, to
keep no more than a window of lines in flight.

A line is "M PHASE SENDER SEQ SENT_NS x...": SENT_NS is time.monotonic_ns()
(CLOCK_MONOTONIC, the receivers' clock too), SEQ counts up from 0 per phase
and sender (docs/bench-json.md, "--chat-receive")."""

import selectors
import socket
import time

from bench.lib.cores import DEFAULT as CORES
from bench.lib.loadgen import DeliveredCount


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


def sender(port, cfg, progress_path, receivers, control):
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
        delivered = DeliveredCount(progress_path)
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
    """One phase: at cmd's rate (lines/s over every sender, in turn), or
    without one as fast as deliveries keep up, at most cfg['window'] lines
    in flight (sent but not yet delivered to every receiver)."""
    n = len(socks)
    phase, duration = cmd["phase"], cmd["duration"]
    size = cfg["line_bytes"]
    seq = [0] * n
    pending = [b""] * n  # unsent bytes of a line the kernel did not take whole
    behind = 0
    blocked = 0
    window = cfg["window"]
    base_delivered = delivered.value()
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
            outstanding = sent_total * receivers - (delivered.value() - base_delivered)
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
