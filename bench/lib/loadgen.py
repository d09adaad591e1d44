"""One `sockserv bench --json` run, as a record: the command, how long it
took, the load generator's CPU time, its JSON result, and a status (ok,
errors: some requests failed, failed: none succeeded or it did not run)."""

import json
import resource
import subprocess
import time

from . import procfs


def run_bench(sockserv, url, args, limit, plan, server_pid=None, cpu_after_s=0.0,
              cpu_key="load_cpu_s"):
    """Runs `sockserv bench --json ARGS URL` on plan's load cores, for at
    most limit seconds. With server_pid, the server's CPU time is read
    cpu_after_s into the run (the end of the warmup) and again when the
    bench exits. cpu_key names the load's CPU seconds in the record (the
    results files of different experiments spell it differently)."""
    argv = plan.on_load_cores([sockserv, "bench", "--json", *args, url])
    started = time.monotonic()
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    cpu0 = t0 = None
    if server_pid is not None:
        time.sleep(cpu_after_s)
        cpu0, t0 = procfs.cpu_times(server_pid), time.monotonic()
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"command": " ".join(argv), "status": "failed",
                "reason": f"bench still running after {limit:.0f}s"}
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    record = {"command": " ".join(argv), "wall_s": round(time.monotonic() - started, 3),
              cpu_key: round(usage1.ru_utime - usage0.ru_utime +
                             usage1.ru_stime - usage0.ru_stime, 3)}
    if server_pid is not None:
        cpu1, t1 = procfs.cpu_times(server_pid), time.monotonic()
        if cpu0 is not None and cpu1 is not None:
            record["server_cpu_s"] = round(sum(cpu1) - sum(cpu0), 3)
            record["server_user_cpu_s"] = round(cpu1[0] - cpu0[0], 3)
            record["server_cpu_window_s"] = round(t1 - t0, 3)
    err_text = err.decode(errors="replace").strip()
    try:
        record["result"] = json.loads(out)
    except ValueError:
        record.update(status="failed",
                      reason=(err_text or f"exit status {proc.returncode}")[-300:])
        return record
    r = record["result"]
    if r["requests"] == 0:
        record.update(status="failed", reason=err_text[-300:] or "no request succeeded: " + ", ".join(
            f"{v} {k}" for k, v in r["errors"].items() if v))
    elif r["requests_failed"] > 0:
        record["status"] = "errors"
    else:
        record["status"] = "ok"
    return record


def failed(reason):
    """The record of a run that could not be made."""
    return {"status": "failed", "reason": str(reason)[-300:]}


def errors_text(result):
    """A bench result's errors as "3 timeout, 1 reset", or "0"."""
    parts = [f"{v} {k}" for k, v in result["errors"].items() if v]
    return ", ".join(parts) if parts else "0"


def summary_line(record, fmt_us):
    """One line of progress about a run's record."""
    if record["status"] == "failed" and "result" not in record:
        return f"FAILED: {record['reason']}"
    r = record["result"]
    lat = r["latency_us"] or {}
    errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items() if v) or "no errors"
    return (f"{record['status']:6} {r['requests_per_s']:10.0f} req/s  "
            f"p99 {fmt_us(lat.get('p99'))}  {errors}")
