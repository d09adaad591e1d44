"""The generator is not the bottleneck: one `sockserv bench` thread against
the thread-per-connection reference client (bench/tools/threaded_client.c),
the same server, the same core, rounds taken in turn."""

import json
import os

from bench.lib.loadgen import failed
from bench.lib.report import log, median, table
from bench.lib.servers import REPO

FULL = {"connections": 50, "seconds": 5, "repeats": 3}
SMOKE = {"connections": 10, "seconds": 1, "repeats": 1}
THREADED_CLIENT = os.environ.get("THREADED_CLIENT") or str(
    REPO / "build" / "bench" / "threaded_client")


def one_round(testbed, server, conns, secs):
    host, port = server.url.split("//")[1].rsplit("/", 1)[0].rsplit(":", 1)
    argv = [THREADED_CLIENT, "-c", str(conns), "-d", str(secs), host, port]
    rc, out, err, cpu = testbed.run_tool(argv, secs + 30)
    try:
        threaded = json.loads(out)
    except ValueError:
        threaded = {"requests_per_s": 0, "error": err.strip()[-300:]}
    threaded["cpu_s"] = round(cpu, 3)
    threaded["command"] = " ".join(testbed.plan.on_load_cores(argv))
    ours = testbed.bench(server.url, ["-c", str(conns), "-t", "1", "-d", f"{secs}s"],
                         limit=secs + 30)
    return {"threaded_client": threaded, "bench": ours}


def run(testbed, models, cfg):
    """models is not used: the generators are compared on epoll."""
    conns, secs = cfg["connections"], cfg["seconds"]
    if not os.access(THREADED_CLIENT, os.X_OK):
        return {"settings": cfg, **failed(f"{THREADED_CLIENT} not built (make bench)")}
    try:
        with testbed.server("epoll", "tcp://127.0.0.1:0/echo") as server:
            rounds = [one_round(testbed, server, conns, secs) for _ in range(cfg["repeats"])]
    except RuntimeError as e:
        return {"settings": cfg, **failed(f"server did not start: {e}")}
    threaded_rps = median([r["threaded_client"].get("requests_per_s", 0) for r in rounds]) or 0
    bench_rps = median([r["bench"].get("result", {}).get("requests_per_s", 0)
                        for r in rounds]) or 0
    measured = threaded_rps > 0 and bench_rps > 0
    out = {"settings": cfg, "rounds": rounds, "threaded_client_requests_per_s": threaded_rps,
           "bench_requests_per_s": bench_rps,
           "bench_over_threaded": round(bench_rps / threaded_rps, 3) if threaded_rps else None,
           "bench_keeps_up": measured and bench_rps >= threaded_rps,
           "status": "ok" if measured else "failed"}
    if not measured:
        out["reason"] = "a load generator made no request; see rounds"
    log(f"generator  threaded client {threaded_rps:.0f} req/s, bench {bench_rps:.0f} req/s")
    return out


def markdown(g):
    lines = ["## The generator is not the bottleneck", ""]
    if not g.get("rounds"):
        return lines + [f"FAILED: {g.get('reason')}", ""]
    s = g["settings"]
    rows = []
    for name, rps_key, pick in [
            ("threaded_client (a thread per connection)", "threaded_client_requests_per_s",
             lambda r: (r["threaded_client"].get("requests", 0), r["threaded_client"]["cpu_s"])),
            ("sockserv bench, one thread", "bench_requests_per_s",
             lambda r: (r["bench"].get("result", {}).get("requests", 0),
                        r["bench"].get("cpu_s", 0)))]:
        reqs = sum(pick(r)[0] for r in g["rounds"])
        cpu = sum(pick(r)[1] for r in g["rounds"])
        rows.append([name, f"{g[rps_key]:.0f}", f"{cpu / reqs * 1e5:.2f}" if reqs else "-"])
    verdict = ("one bench thread keeps up with the threaded client" if g["bench_keeps_up"] else
               "one bench thread did NOT keep up with the threaded client")
    return lines + [
        f"Echo, 128 B, {s['connections']} connections, {s['seconds']} s, epoll server; "
        f"median of {s['repeats']} rounds. Both clients on the same core.",
        "",
        *table(["load generator", "requests/s>", "CPU s per 100k requests>"], rows),
        "", f"Result: {verdict} ({g['bench_over_threaded']}x).", "",
    ]
