"""Memory per idle connection: for each model, the server's RSS before and
after many idle echo connections (held by `sockserv bench --hold`; fork with
fewer, its memory summed as PSS over every process), beside what the kernel
spent on the same sockets; then the same with one echo round trip per
connection first, to show that I/O buffers go back when idle."""

import socket
import time

from bench.lib import machine, procfs, report, servers
from bench.lib.cores import DEFAULT as CORES
from bench.lib.loadgen import Hold, hold_summary

FULL = {"connections": 10000, "fork_connections": 1000, "echo_bytes": 64,
        "warm_round_trips": 2000, "settle_s": 1.0}
QUICK = {"connections": 500, "fork_connections": 50, "echo_bytes": 64,
         "warm_round_trips": 1100, "settle_s": 0.2}
MODELS = ["epoll", "poll", "uring", "thread", "fork"]
TARGET_BYTES = 256


def warm(port, round_trips):
    """One connection does round_trips echoes before the baseline, so that
    fixed pools (uring's 8 MiB provided-buffer ring, malloc's first arena
    growth, the thread model's first stack) are counted as what they are:
    a fixed cost, not a cost per connection."""
    if round_trips <= 0:
        return
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        msg = b"w" * 1023 + b"\n"
        for _ in range(round_trips):
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                chunk = s.recv(len(msg) - len(got))
                if not chunk:
                    return
                got += chunk


def server_footprint(pid, model):
    """The server's memory: the process itself, or for fork every process
    of the tree, summed as PSS (shared pages split between sharers)."""
    mem = procfs.memory(pid)
    out = {"rss": mem["VmRSS"], "rss_anon": mem["RssAnon"], "threads": mem["Threads"],
           "fds": procfs.fd_count(pid)}
    if model == "fork":
        procs = [pid] + procfs.descendants(pid)
        out["processes"] = len(procs)
        out["pss_sum"] = sum(procfs.pss(p) or 0 for p in procs)
        out["rss_sum"] = sum(procfs.memory(p)["VmRSS"] or 0 for p in procs)
        out["rss_anon_sum"] = sum(procfs.memory(p)["RssAnon"] or 0 for p in procs)
    return out


def held_count(pid, model, base):
    """Connections the server holds now: descriptors beyond its baseline,
    or for fork the number of children."""
    if model == "fork":
        return len(procfs.child_pids(pid))
    return procfs.fd_count(pid) - base


def wait_accepted(pid, model, port, want, limit):
    """Waits until the server has accepted want connections: that many
    established on its port and none left in the accept queue (and, for
    fork, a child for each). Counted through ss, which leaves the kernel's
    caches alone; the descriptors are counted after the kernel reading."""
    deadline = time.monotonic() + limit
    last, still_since, n = -1, time.monotonic(), 0
    while time.monotonic() < deadline:
        established, queued = procfs.ss_server_side(port)
        n = established - queued
        if model == "fork":
            n = min(n, len(procfs.child_pids(pid)))
        if n >= want:
            return n
        if n != last:
            last, still_since = n, time.monotonic()
        elif time.monotonic() - still_since > 10:
            return n  # nothing moved for 10 s: it will not get there
        time.sleep(0.1)
    return n


# -- (a) memory per idle connection -------------------------------------------

def one_run(sockserv, model, count, echo, cfg):
    options = []
    if model in ("thread", "fork"):
        options = ["--max-conns", str(count + 100)]
    argv = [sockserv, "serve", "-q", "-m", model, *options, "tcp://127.0.0.1:0/echo"]
    record = {"model": model, "connections": count, "echo_first": echo,
              "command": " ".join(CORES.on_server_cores(argv)), "load_average_before": procfs.load_average(),
              "other_benchmarks": machine.other_benchmarks()}
    hold = None
    try:
        with servers.MeasuredServer(argv, CORES) as server:
            pid = server.pid
            record["at_start"] = server_footprint(pid, model)
            warm(server.port, cfg["warm_round_trips"])
            time.sleep(0.3)
            base_fds = procfs.fd_count(pid)
            before = server_footprint(pid, model)
            k_before = procfs.kernel_snapshot()
            started = time.monotonic()
            # With echo first, every connection makes its round trip as soon
            # as it is open, and is held only once it has.
            hold = Hold(sockserv, f"tcp://127.0.0.1:{server.port}", count, CORES, "127.0.1.1",
                        hold_requests=1 if echo else 0, size=cfg["echo_bytes"],
                        connect_rate=10000, max_seconds=240)
            held = hold.wait_held(120)
            record["client"] = {"command": " ".join(hold.argv), "asked": count,
                                "established": held["held"], "failed": held.get("failed"),
                                "elapsed_s": held.get("after_s"),
                                "first_error": held.get("first_error")}
            accepted = wait_accepted(pid, model, server.port, held["held"], 60)
            record["server_accepted_by_ss"] = accepted
            record["connect_s"] = round(time.monotonic() - started, 2)
            time.sleep(cfg["settle_s"])  # let deferred frees and the kernel settle
            # The kernel first: reading /proc/PID/fd would add to its caches.
            k_after = procfs.kernel_snapshot()
            after = server_footprint(pid, model)
            held = held_count(pid, model, base_fds)
            record["server_held"] = held
            record["skmem_server_side"] = procfs.ss_skmem_sample(server.port)
            record["before"], record["after"] = before, after
            n = max(held, 1)
            if model == "fork":
                grew = after["pss_sum"] - before["pss_sum"]
                record["user_bytes_per_connection"] = round(grew / n, 1)
                record["measure"] = "PSS summed over the parent and every child"
                record["rss_anon_sum_per_connection"] = round(
                    (after["rss_anon_sum"] - before["rss_anon"]) / n, 1)
            else:
                record["user_bytes_per_connection"] = round((after["rss"] - before["rss"]) / n, 1)
                record["rss_anon_per_connection"] = round(
                    (after["rss_anon"] - before["rss_anon"]) / n, 1)
                record["measure"] = "VmRSS growth of the server process"
            record["kernel"] = procfs.kernel_growth(k_before, k_after, n)
            record["status"] = "ok" if held == count else "short"
            record["server_alive"] = server.alive()
            record["client_report"] = hold_summary(hold.stop())
            hold = None
    except RuntimeError as e:
        record.update(status="failed", reason=f"server did not start: {e}")
    finally:
        if hold is not None:
            hold.stop()
    if echo and "client_report" in record:
        r = record["client_report"]
        record["echo"] = {"ok": r.get("requests", 0), "errors": r.get("errors", {})}
    record["load_average_after"] = procfs.load_average()
    return record


def run(sockserv, models, cfg):
    runs = []
    for model in models:
        count = cfg["fork_connections"] if model == "fork" else cfg["connections"]
        for echo in (False, True):
            rec = one_run(sockserv, model, count, echo, cfg)
            runs.append(rec)
            if rec["status"] == "failed":
                report.log(f"memory {model:6} echo={echo!s:5} FAILED: {rec['reason']}")
            else:
                report.log(f"memory {model:6} echo={echo!s:5} held {rec['server_held']}/{count}  "
                       f"user {rec['user_bytes_per_connection']:.0f} B/conn  kernel slab "
                       f"{rec['kernel'].get('slabinfo_total_per_connection', 0):.0f} B/conn (both ends)")
            time.sleep(cfg["settle_s"])  # the RSTs of the last run clear
    return {"settings": cfg, "target_bytes": TARGET_BYTES, "runs": runs}



def markdown(results):
    m = results["machine"]
    exp = results["experiments"]["memory"]
    s = exp["settings"]
    lines = [
        "# sockserv: memory per idle connection",
        "",
        f"Run {results['generated']} on {machine.sentence(m)}"
        + (" **Quick settings: a check of the script, not a measurement.**" if results["quick"]
           else ""),
        "",
        f"Command: `{results['command']}`. Each row: a fresh echo server; one connection "
        f"first does {s['warm_round_trips']} round trips of 1 KiB (so fixed pools such as "
        "uring's 8 MiB provided-buffer ring are touched before the baseline); then the "
        f"baseline; then {s['connections']:,} idle connections ({s['fork_connections']:,} for fork) "
        "from one client process, bound to 127.0.1.x source addresses; the server has "
        "accepted them all when ss shows them all established on its port with nothing left "
        "in the accept queue (and, for fork, a child for each); 1 s later the second "
        "reading, and then \"held\", from the server's descriptors. \"echo first\": every connection did one "
        f"{s['echo_bytes']} B round trip before the reading, so its buffers were "
        "allocated and freed.",
        "",
        "User space is the server's VmRSS growth divided by the connections (RssAnon beside "
        "it); for fork, PSS summed over the parent and every child, so pages the children "
        "share count once. The kernel columns are system-wide and include BOTH ends of each "
        "connection (the client's socket is on this machine too): SUnreclaim growth from "
        "/proc/meminfo, and the sum of /proc/slabinfo caches that grew (but proc_inode_cache, "
        "which grows when /proc/PID/fd is listed: the measurement, not the connections; the "
        "kernel is read before that listing, and ss, which uses netlink, tells when every "
        "connection has been accepted), plus KernelStack and PageTables (threads and "
        "processes). Socket buffers of "
        "idle connections are in the skmem column (`ss -tm`, mean over the server's "
        "sockets): r/t are the bytes queued, f the forward-allocated reserve.",
        "",
        f"Target: at most {exp['target_bytes']} B of user space per idle connection for "
        "epoll, poll and uring. The load average column is the 1-minute figure as each row "
        "began: the thread rows' 10,000 threads and the fork rows' 1,000 processes raise it "
        "themselves, so other_benchmarks in memory.json (other benchmark processes seen as "
        "each row began) is the better sign of a disturbed run.",
        "",
    ]
    rows = []
    for r in exp["runs"]:
        if r["status"] == "failed":
            rows.append([r["model"], "yes" if r["echo_first"] else "no",
                         f"failed: {r['reason']}"])
            continue
        k = r["kernel"]
        caches = ", ".join(f"{n} {v:.0f}" for n, v in list(k["slab_caches_per_connection"].items())[:5])
        sk = r.get("skmem_server_side") or {}
        skm = sk.get("mean", {})
        sk_text = (f"r {skm.get('r', 0):.0f} t {skm.get('t', 0):.0f} f {skm.get('f', 0):.0f} "
                   f"w {skm.get('w', 0):.0f}") if skm else "-"
        user = r["user_bytes_per_connection"]
        target = ("-" if r["model"] in ("thread", "fork") else
                  ("met" if user <= exp["target_bytes"] else "**missed**"))
        anon = r.get("rss_anon_per_connection", r.get("rss_anon_sum_per_connection"))
        stacks = k.get("KernelStack_per_connection", 0) + k.get("PageTables_per_connection", 0)
        rows.append([
            r["model"], "yes" if r["echo_first"] else "no",
            f"{r['server_held']:,}/{r['connections']:,}", f"{user:,.0f}", f"{anon:,.0f}", target,
            f"{k.get('slabinfo_total_per_connection', 0):,.0f}",
            f"{k.get('SUnreclaim_per_connection', 0):,.0f}", f"{stacks:,.0f}", caches, sk_text,
            f"{r['load_average_before'][0]:.1f}"])
    lines += report.table(
        ["model", "echo first", "held>", "user B/conn (RSS)>", "RssAnon B/conn>", "target",
         "kernel slab B/conn (both ends)>", "SUnreclaim B/conn>",
         "kernel stacks + page tables B/conn>", "top slab caches, B/conn",
         "skmem mean, server side (B)", "load avg"], rows)
    lines += ["", "Notes:", ""]
    for r in exp["runs"]:
        if r["status"] == "failed":
            continue
        b, a = r["before"], r["after"]
        if r["model"] == "fork":
            lines.append(f"- fork{' (echo first)' if r['echo_first'] else ''}: "
                         f"{a.get('processes')} processes, PSS {report.fmt_bytes(b.get('pss_sum'))} "
                         f"-> {report.fmt_bytes(a.get('pss_sum'))}, RSS summed "
                         f"{report.fmt_bytes(a.get('rss_sum'))}.")
        else:
            lines.append(f"- {r['model']}{' (echo first)' if r['echo_first'] else ''}: RSS "
                         f"{report.fmt_bytes(r['at_start']['rss'])} at start, "
                         f"{report.fmt_bytes(b['rss'])} after warming, {report.fmt_bytes(a['rss'])} "
                         f"with the connections; {a['threads']} threads.")
    return "\n".join(lines)
