"""How many connections: 19,000 to one process (epoll and uring) from two
client processes, and 100,000 to --workers from six, with source addresses
spread over 127.0.0.0/8; every connection makes one echo round trip, and
the report says how the connections split across the workers."""

import time

from bench.lib import machine, procfs, report, servers
from bench.lib.cores import DEFAULT as CORES
from bench.lib.loadgen import Hold, hold_summary, stop_holds

FULL = {
    "scale19k": {"connections": 19000, "clients": 2, "max_conns": 19500, "echo_bytes": 64},
    "scale100k": {"connections": 100000, "clients": 6, "workers": 6, "max_conns": 19000,
                  "echo_bytes": 64, "time_budget_s": 240},
}
QUICK = {
    "scale19k": {"connections": 1000, "clients": 2, "max_conns": 1500, "echo_bytes": 64},
    "scale100k": {"connections": 2000, "clients": 2, "workers": 2, "max_conns": 1500,
                  "echo_bytes": 64, "time_budget_s": 60},
}


def scale_run(sockserv, argv, model_label, cfg, count, clients, workers=0, time_budget=240):
    record = {"label": model_label, "asked": count, "client_processes": clients,
              "command": " ".join(CORES.on_server_cores(argv)), "load_average_before": procfs.load_average(),
              "other_benchmarks": machine.other_benchmarks()}
    holds = []
    started = time.monotonic()
    try:
        with servers.MeasuredServer(argv, CORES) as server:
            pid = server.pid
            time.sleep(0.3 if not workers else 1.0)
            procs = procfs.child_pids(pid) if workers else [pid]
            record["server_processes"] = len(procs)
            base = {p: procfs.socket_fd_count(p) for p in procs}
            per = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
            for i, n in enumerate(per):
                # Each client process has a block of source addresses of its
                # own: 127.(10+i).0.1 onward, 1000 connections on each. Each
                # connection makes its round trip as soon as it is open.
                holds.append(Hold(sockserv, f"tcp://127.0.0.1:{server.port}", n, CORES,
                                  f"127.{10 + i}.0.1", hold_requests=1, size=cfg["echo_bytes"],
                                  connect_rate=max(2000, 20000 // clients), timeout="60s",
                                  max_seconds=time_budget + 60))
            deadline = time.monotonic() + time_budget * 0.6
            conns = [h.wait_held(max(0.1, deadline - time.monotonic())) for h in holds]
            record["connect_s"] = round(time.monotonic() - started, 2)
            record["clients"] = conns
            established = sum(c.get("held", 0) for c in conns)
            record["established"] = established
            # The server side: wait until the workers hold what the clients have.
            deadline = time.monotonic() + 60
            last, still = -1, time.monotonic()
            while time.monotonic() < deadline:
                procs_now = procfs.child_pids(pid) if workers else [pid]
                held = sum(procfs.socket_fd_count(p) - base.get(p, 0) for p in procs_now)
                if held >= established:
                    break
                if held != last:
                    last, still = held, time.monotonic()
                elif time.monotonic() - still > 10:
                    break
                time.sleep(0.2)
            procs_now = procfs.child_pids(pid) if workers else [pid]
            record["per_process"] = [{
                "pid": p, "connections": procfs.socket_fd_count(p) - base.get(p, 0),
                "rss": procfs.memory(p)["VmRSS"], "rss_anon": procfs.memory(p)["RssAnon"]}
                for p in procs_now]
            record["server_rss_total"] = sum(x["rss"] or 0 for x in record["per_process"])
            if workers:
                record["supervisor_rss"] = procfs.memory(pid)["VmRSS"]
            record["server_alive"] = server.alive()
            record["sockstat"] = procfs.sockstat()
            reports = [hold_summary(r) for r in stop_holds(holds)]
            holds = []
            record["elapsed_s"] = round(time.monotonic() - started, 2)
            record["client_reports"] = reports
            record["round_trips_ok"] = sum(r.get("requests", 0) for r in reports)
            slowest = [(r.get("latency_us") or {}).get("max") for r in reports]
            record["round_trip_max_s"] = round(max((x or 0 for x in slowest), default=0) / 1e6, 3)
            errs = {}
            for r in reports:
                for k, v in (r.get("errors") or {}).items():
                    if v:
                        errs[k] = errs.get(k, 0) + v
            record["client_errors"] = errs
            record["first_errors"] = sorted(
                {c["first_error"] for c in conns if c.get("first_error")}
                | {r[k] for r in reports for k in ("reason", "first_other_error") if r.get(k)})
            record["server_stderr_tail"] = server.close()
    except RuntimeError as e:
        record.update(status="failed", reason=f"server did not start: {e}")
        return record
    finally:
        stop_holds(holds)
    record["status"] = ("ok" if record["round_trips_ok"] == count else
                        "short" if record["round_trips_ok"] else "failed")
    record["load_average_after"] = procfs.load_average()
    return record


def run_19k(sockserv, cfg):
    runs = []
    for model in ("epoll", "uring"):
        argv = [sockserv, "serve", "-q", "-m", model, "--max-conns", str(cfg["max_conns"]),
                "tcp://127.0.0.1:0/echo"]
        rec = scale_run(sockserv, argv, model, cfg, cfg["connections"], cfg["clients"])
        runs.append(rec)
        report.log(f"scale19k {model:6} " + summary(rec))
        time.sleep(0.5)
    return {"settings": cfg, "runs": runs}


def run_100k(sockserv, cfg):
    argv = [sockserv, "serve", "-q", "-m", "epoll", "--workers", str(cfg["workers"]),
            "--max-conns", str(cfg["max_conns"]), "tcp://127.0.0.1:0/echo"]
    rec = scale_run(sockserv, argv, f"epoll --workers {cfg['workers']}", cfg,
                    cfg["connections"], cfg["clients"], workers=cfg["workers"],
                    time_budget=cfg["time_budget_s"])
    report.log("scale100k " + summary(rec))
    return {"settings": cfg, "runs": [rec]}


def summary(rec):
    if rec.get("status") == "failed" and "established" not in rec:
        return f"FAILED: {rec.get('reason')}"
    return (f"established {rec['established']}/{rec['asked']}, round trips ok "
            f"{rec['round_trips_ok']}, connect and round trip {rec['connect_s']} s, slowest "
            f"round trip {rec['round_trip_max_s']} s, "
            f"server RSS {report.fmt_bytes(rec['server_rss_total'])}"
            + (f"; errors {rec['client_errors']}" if rec["client_errors"] else ""))


def markdown(results):
    m = results["machine"]
    exp = results["experiments"]
    lines = [
        "# sockserv: how many connections",
        "",
        f"Run {results['generated']} on {machine.sentence(m)}"
        + (" **Quick settings: a check of the script, not a measurement.**" if results["quick"]
           else "")
        + f" Ephemeral ports {'-'.join(m['ip_local_port_range'].split())} (per source address), "
        f"tcp_mem {' '.join(m['tcp_mem_pages'].split())} pages, somaxconn {m['somaxconn']}, file-max {m['file_max']}.",
        "",
        f"Command: `{results['command']}`. Client processes (`sockserv bench --hold "
        "--hold-requests 1 --source-from 127.(10+i).0.1`) run on the load core, the server on "
        "core 0. Each client binds every socket to a source address of its own block "
        "(127.(10+i).0.x, 1000 connections per address, IP_BIND_ADDRESS_NO_PORT) before "
        "connecting, and every connection, once open, sends one 64 B line and waits for its "
        "echo. Connections are counted on both sides: \"established\" by the clients (open, "
        "round trip done), \"held\" by counting socket descriptors in each server process's "
        "/proc/PID/fd. \"connect and round trip s\": until every client held all of its "
        "connections; \"slowest round trip\": the longest one round trip took.",
        "",
    ]
    rows = []
    for name in ("scale19k", "scale100k"):
        if name not in exp:
            continue
        for r in exp[name]["runs"]:
            if "established" not in r:
                rows.append([name, r["label"], f"{r['asked']:,}", f"failed: {r.get('reason')}"])
                continue
            errs = ", ".join(f"{k} {v}" for k, v in r["client_errors"].items()) or "0"
            rows.append([name, f"`{r['label']}`", f"{r['asked']:,}", f"{r['established']:,}",
                         f"{r['round_trips_ok']:,}", r["connect_s"], r["round_trip_max_s"],
                         r["elapsed_s"], report.fmt_bytes(r["server_rss_total"]), errs,
                         f"{r['load_average_before'][0]:.1f}"])
    lines += report.table(
        ["experiment", "server", "asked>", "established>", "round trips ok>",
         "connect and round trip s>", "slowest round trip s>", "whole run s>", "server RSS>",
         "client errors", "load avg"], rows)
    for name in ("scale19k", "scale100k"):
        for r in exp.get(name, {}).get("runs", []):
            if "per_process" not in r:
                continue
            if name == "scale100k":
                lines += ["", f"How the {r['established']:,} connections split across the "
                          f"workers (socket descriptors in each worker's /proc/PID/fd after "
                          "the round trips):", ""]
                rows = [[str(p["pid"]), f"{p['connections']:,}", report.fmt_bytes(p["rss"])]
                        for p in r["per_process"]]
                rows.append(["supervisor", "0", report.fmt_bytes(r.get("supervisor_rss"))])
                lines += report.table(["worker pid", "connections>", "RSS>"], rows)
            if r.get("first_errors"):
                lines += ["", f"{name} `{r['label']}` first errors: "
                          + "; ".join(r["first_errors"])]
    return "\n".join(lines)
