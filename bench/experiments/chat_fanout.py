"""Chat fan-out: 1,000 clients in one room, for each model that serves chat.

For each of select, poll, epoll, uring, thread and epoll --threads 2: a
fresh `sockserv serve -m MODEL tcp://127.0.0.1:0/chat` pinned to the first
core; 1,000 receiving members in the lobby, all in one `sockserv bench
--chat-receive` process, and 4 sending clients in one Python process
(chat_sender.py), both on the other cores. Then the phases: fixed (a fixed
offered rate) and three saturate runs (as fast as deliveries keep up, at
most a window of lines in flight); the report takes the saturate median.

bench checks on every receiver that each sender's lines came exactly once
and in order and takes each delivery's latency; the server's CPU time over
each phase (utime+stime from /proc/PID/stat) is read here, so deliveries
per server CPU-second estimates what the server alone would do."""

import functools
import multiprocessing as mp
import subprocess
import time

from bench.experiments import chat_sender
from bench.lib import machine, procfs, report, servers
from bench.lib.cores import DEFAULT as CORES
from bench.lib.loadgen import ChatReceivers

# -- Settings -------------------------------------------------------------------

FULL = {"receivers": 1000, "senders": 4, "rate": 20.0, "fixed_s": 5.0, "saturate_s": 5.0,
        "window": 64, "line_bytes": 64, "drain_s": 15.0, "settle_s": 1.0}
QUICK = {"receivers": 100, "senders": 2, "rate": 20.0, "fixed_s": 0.5, "saturate_s": 0.5,
         "window": 64, "line_bytes": 64, "drain_s": 5.0, "settle_s": 0.2}
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


@functools.lru_cache(maxsize=None)
def flood_limit_off(sockserv):
    """The option that lifts chat's per-sender flood limit, which the
    senders here pass on purpose; none for a build from before it existed
    (bench/paired.py compares against older builds)."""
    helptext = subprocess.run([sockserv, "serve", "--help"], capture_output=True,
                              text=True).stdout
    return ["--chat-rate", "off"] if "--chat-rate" in helptext else []


def server_argv(sockserv, label, cfg):
    model, extra = MODELS[label]
    options = list(extra) + flood_limit_off(sockserv)
    conns = cfg["receivers"] + cfg["senders"]
    if model == "thread":
        options += ["--max-conns", str(conns + 100)]
    if model == "select":
        # select's default is 960; the descriptors of 1,004 clients still fit
        # below FD_SETSIZE (1024), so it is let try.
        options += ["--max-conns", str(min(conns + 4, 1016))]
    return [sockserv, "serve", "-q", "-m", model, *options, "tcp://127.0.0.1:0/chat"]


# -- Run ------------------------------------------------------------------------

def run_phases(cfg, pid, receivers, control):
    """Runs every phase through the sender; returns what it said of each,
    with the server's CPU time over the phase and its drain."""
    phases = []
    for p_index, name in enumerate(PHASES):
        cmd = {"cmd": "run", "phase": p_index,
               "duration": cfg["fixed_s"] if name == "fixed" else cfg["saturate_s"],
               "rate": cfg["rate"] if name == "fixed" else None}
        base = receivers.delivered()
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
        while receivers.delivered() < want and time.monotonic() < drain_deadline:
            time.sleep(0.01)
        cpu1, t1 = procfs.cpu_seconds(pid), time.monotonic()
        done["steal_s"] = round(procfs.steal_seconds() - steal0, 3)
        done["other_benchmarks"] = others
        done["server_cpu_s"] = round(cpu1 - cpu0, 3)
        done["wall_s"] = round(t1 - t0, 3)
        done["drained"] = receivers.delivered() >= want
        phases.append(done)
        time.sleep(cfg["settle_s"] / 2)
    return phases


def run_model(sockserv, label, cfg, server_binary=None):
    """One model's run. The receivers are always sockserv's bench; the
    server is server_binary when given (bench/paired.py compares two
    builds' servers under one load engine), else sockserv too."""
    argv = server_argv(server_binary or sockserv, label, cfg)
    record = {"label": label, "command": " ".join(CORES.on_server_cores(argv)),
              "load_average_before": procfs.load_average()}
    try:
        server = servers.MeasuredServer(argv, CORES)
    except RuntimeError as e:
        record.update(status="failed", reason=f"server did not start: {e}")
        return record
    ctx = mp.get_context("fork")
    receivers = sender_proc = control = None
    try:
        t = time.monotonic()
        receivers = ChatReceivers(sockserv, f"tcp://127.0.0.1:{server.port}/chat",
                                  cfg["receivers"], CORES)
        record["receivers_command"] = " ".join(receivers.argv)
        joined = receivers.wait_joined(60)
        if joined.get("event") != "joined" or joined["joined"] != cfg["receivers"]:
            raise RuntimeError(f"receivers not all in the room: {joined}; "
                               f"server {'alive' if server.alive() else 'dead'}")
        record["receivers_joined_s"] = round(time.monotonic() - t, 2)
        control, theirs = ctx.Pipe()
        sender_proc = ctx.Process(target=chat_sender.sender,
                                  args=(server.port, cfg, receivers.progress_path,
                                        cfg["receivers"], theirs), daemon=True)
        sender_proc.start()
        theirs.close()
        if not control.poll(40):
            raise RuntimeError("senders did not connect within 40 s")
        hello = control.recv()
        if hello.get("event") != "ready":
            raise RuntimeError(f"senders failed: {hello.get('error')}")
        time.sleep(cfg["settle_s"])  # the senders' join notices drain
        phases = run_phases(cfg, server.pid, receivers, control)
        control.send({"cmd": "quit"})
        received = receivers.stop()
        receivers = None
        record["server_alive_at_end"] = server.alive()
        record.update(summarize(cfg, phases, received))
    except (RuntimeError, OSError, EOFError) as e:
        record.update(status="failed", reason=str(e))
    finally:
        if control is not None:
            try:
                control.send({"cmd": "quit"})
            except OSError:
                pass
        if sender_proc is not None:
            sender_proc.join(10)
            if sender_proc.is_alive():
                sender_proc.kill()
                sender_proc.join()
        if receivers is not None:
            receivers.stop()
        tail = server.close()
        if tail:
            record["server_stderr_tail"] = tail
    record["load_average_after"] = procfs.load_average()
    return record


def run(sockserv, labels, cfg):
    """Every model in labels, one after the other; the records in order."""
    records = []
    for label in labels:
        rec = run_model(sockserv, label, cfg)
        records.append(rec)
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
    return records


# -- Rows -----------------------------------------------------------------------

def latency_summary(lat):
    """bench's latency object as the results keep it: p50, p90, p99, p99_9
    and max in microseconds, to 0.1 µs; None when nothing was delivered."""
    if not lat:
        return None
    return {k: round(lat[k], 1) for k in ("p50", "p90", "p99", "p99_9", "max")}


def phase_row(cfg, name, done, got):
    """One phase as the results keep it: what the sender sent (done) beside
    what the receivers got (got: bench's phase object, or None)."""
    got = got or {"deliveries": 0, "gaps": 0, "duplicates_or_reordered": 0,
                  "receivers_complete": 0, "last_ns": 0, "senders": [], "latency_us": None}
    receivers = cfg["receivers"]
    seen = {s["sender"]: s for s in got["senders"]}
    # Every receiver got what the senders sent only if some receiver got
    # each sender's last line; then "complete" receivers are exact ones.
    all_seen = all(seen.get(k, {}).get("lines_seen", 0) == sent
                   for k, sent in enumerate(done["sent"]))
    exact_clients = got["receivers_complete"] if all_seen else 0
    missing = sum(max(0, receivers * sent - seen.get(k, {}).get("next_due_sum", 0))
                  for k, sent in enumerate(done["sent"]))
    deliveries = got["deliveries"]
    expected = done["sent_total"] * receivers
    span_s = (got["last_ns"] - done["first_ns"]) / 1e9 if got["last_ns"] else None
    gaps, dups = got["gaps"], got["duplicates_or_reordered"]
    # A client counts as exact when, for every sender, it got exactly the
    # lines that sender sent, each once, in order (no gap, no duplicate).
    exact = (exact_clients == receivers and gaps == 0 and dups == 0
             and deliveries == expected)
    rate = deliveries / span_s if span_s else 0
    return {
        "lines_sent": done["sent_total"], "per_sender": done["sent"],
        "send_s": round((done["end_ns"] - done["first_ns"]) / 1e9, 3),
        "offered_lines_per_s": cfg["rate"] if name == "fixed" else None,
        "behind_schedule": done["behind_schedule"], "send_blocked": done["send_blocked"],
        "deliveries_expected": expected, "deliveries": deliveries,
        "deliveries_per_s": round(rate, 1), "span_s": round(span_s, 3) if span_s else None,
        "latency_us": latency_summary(got["latency_us"]),
        "clients_exact": exact_clients, "missing": missing, "gaps": gaps,
        "duplicates_or_reordered": dups, "exactly_once_in_order": exact,
        "server_cpu_s": done["server_cpu_s"], "phase_wall_s": done["wall_s"],
        "server_cpu_share": round(done["server_cpu_s"] / done["wall_s"], 3),
        "deliveries_per_server_cpu_s": round(deliveries / done["server_cpu_s"], 0)
        if done["server_cpu_s"] else None,
        "drained": done["drained"], "steal_s": done["steal_s"],
        "other_benchmarks": done["other_benchmarks"],
    }


def summarize(cfg, phases, received):
    """The run's figures from the sender's phases and the receivers' report."""
    if "chat" not in received:
        return {"phases": {}, "receiver_reports": 0, "status": "errors",
                "receiver_errors": [received.get("reason", "no report")]}
    chat = received["chat"]
    by_phase = {ph["phase"]: ph for ph in chat["phases"]}
    out = {"phases": {}, "receiver_reports": 1}
    for p_index, name in enumerate(PHASES):
        out["phases"][name] = phase_row(cfg, name, phases[p_index], by_phase.get(p_index))
    # Fixed phase: for each line, the latency to its first and to its last receiver.
    fixed = by_phase.get(0) or {}
    out["phases"]["fixed"]["first_receiver_latency_us"] = latency_summary(
        fixed.get("first_receiver_latency_us"))
    out["phases"]["fixed"]["last_receiver_latency_us"] = latency_summary(
        fixed.get("last_receiver_latency_us"))
    # The saturation figure: the median of the three saturate runs.
    runs = sorted((out["phases"][n] for n in SATURATE), key=lambda ph: ph["deliveries_per_s"])
    out["saturate_median"] = dict(runs[len(runs) // 2])
    out["saturate_median"]["all_deliveries_per_s"] = [out["phases"][n]["deliveries_per_s"]
                                                      for n in SATURATE]
    out["saturate_median"]["all_per_server_cpu_s"] = [
        out["phases"][n]["deliveries_per_server_cpu_s"] for n in SATURATE]
    out["saturate_median"]["exactly_once_in_order"] = all(
        out["phases"][n]["exactly_once_in_order"] for n in SATURATE)
    out["too_slow_notices"] = chat["too_slow_notices"]
    # A receiver's connection that ended before the run did was closed by
    # the server (or failed): bench counts it as an error.
    out["receivers_closed"] = received["requests_failed"]
    out["first_anomaly"] = chat["first_anomaly"]
    all_exact = all(ph["exactly_once_in_order"] for ph in out["phases"].values())
    out["status"] = "ok" if all_exact else "errors"
    return out


# -- Report ---------------------------------------------------------------------

def label_of(r):
    return {"epoll-t2": "epoll --threads 2"}.get(r["label"], r["label"])


def intro(results):
    cfg = results["settings"]
    return [
        "# sockserv: chat fan-out",
        "",
        f"Run {results['generated']} on {machine.sentence(results['machine'])}"
        + (" **Quick settings: a check of the script, not a measurement.**" if results["quick"]
           else ""),
        "",
        f"Command: `{results['command']}`. {cfg['receivers']:,} receiving clients in the lobby "
        "(one `sockserv bench --chat-receive` process, one event loop) and "
        f"{cfg['senders']} sending clients (one Python process), all on the load core; the "
        f"server on core 0. Lines are {cfg['line_bytes']} B plus the sender's nick. **fixed**: "
        f"{cfg['rate']:g} lines/s in all for {cfg['fixed_s']:g} s, so "
        f"{cfg['rate'] * cfg['receivers']:,.0f} deliveries/s offered. **saturate** (three runs, "
        "the median shown, all three in brackets): as fast as "
        f"deliveries keep up, at most {cfg['window']} lines in flight, for {cfg['saturate_s']:g} s "
        "(its latencies include the queueing of the window, so only the fixed phase's "
        "latencies describe the server). "
        "Deliveries/s = deliveries to the receivers / (last delivery - first send). Latency: "
        "from the send to the moment the receiver's read() returned the line, every delivery. "
        "\"exact\": every receiver "
        "got every sender's lines exactly once and in that sender's order. Server CPU: "
        "utime+stime over the phase (including its drain) / the phase's wall time; "
        "deliveries per server CPU-second is the capacity estimate when the server was not "
        "the bottleneck (server CPU share well below 1.0 means the receivers were).",
        "",
    ]


def phase_rows(results):
    cfg = results["settings"]
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
    return report.table(
        ["server", "phase", "lines sent>", "deliveries>", "deliveries/s>", "p50>", "p99>",
         "p99.9>", "max>", "exact", "server CPU share>", "deliveries per server CPU-s>",
         "load avg"], rows)


def spread_rows(results):
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
    return report.table(
        ["server", "first receiver p50>", "first p99>", "last receiver p50>", "last p99>",
         "server CPU per line (the fan-out's own cost)>"], rows)


def notes(results):
    found = []
    for r in results["runs"]:
        if r.get("status") == "failed":
            continue
        if r.get("too_slow_notices"):
            found.append(f"{label_of(r)}: receivers saw {r['too_slow_notices']} "
                         "\"too slow\" notices (a client was dropped)")
        if r.get("receivers_closed"):
            found.append(f"{label_of(r)}: {r['receivers_closed']} receiver connections were "
                         "closed by the server")
        if r.get("first_anomaly"):
            found.append(f"{label_of(r)}: first anomaly: {r['first_anomaly']}")
        fx = r["phases"]["fixed"]
        if fx["behind_schedule"]:
            found.append(f"{label_of(r)}: {fx['behind_schedule']} fixed-rate lines left over "
                         "1 ms late (the sender process was held up)")
    return ["", "Notes:", ""] + [f"- {n}" for n in found] if found else []


def markdown(results):
    cfg = results["settings"]
    lines = intro(results) + phase_rows(results)
    lines += [
        "",
        "Fixed phase, per line: latency to the FIRST receiver that read it (the server's "
        "reaction) and to the LAST (the whole room, which includes one receiver loop "
        f"working through {cfg['receivers']:,} sockets on one core). The server's CPU time "
        "per line (its CPU over the phase / lines sent, 10 ms tick resolution) bounds how "
        "long the server itself spends fanning one line out; the rest of the last "
        "receiver's latency is the receivers' own sweep.",
        "",
    ]
    lines += spread_rows(results) + notes(results)
    return "\n".join(lines)
