"""`sockserv bench` as the experiments run it: run_bench, one run as a
record (the command, how long it took, the load generator's CPU time, its
JSON result, and a status: ok; errors, some requests failed; failed, none
succeeded or it did not run); Hold, a `sockserv bench --hold` process that
holds many idle connections while the experiment measures the server; and
ChatReceivers, a `sockserv bench --chat-receive` process whose members
listen in a chat room and check every line they get."""

import json
import mmap
import os
import resource
import selectors
import shutil
import signal
import struct
import subprocess
import tempfile
import time

from . import procfs
from .servers import forget_group, track_group


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


class HeldProcess:
    """A `sockserv bench` process that holds connections on the load cores
    (--hold or --chat-receive, with --json): it announces one event line
    when it holds them, holds them until stop() or its own -d, and then
    prints its report."""

    def __init__(self, argv, plan):
        self.argv = plan.on_load_cores(argv)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        track_group(self.proc.pid)

    def next_event(self, timeout, key):
        """The event line as a dict, or one with event "timeout" or "gone",
        key (the count the event would have given) 0 and a first_error."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return {"event": "timeout", key: 0,
                        "first_error": f"sockserv bench silent for {timeout:.0f}s"}
        line = self.proc.stdout.readline()
        try:
            return json.loads(line)
        except ValueError:
            return {"event": "gone", key: 0,
                    "first_error": f"sockserv bench exited with status {self.proc.wait(5)}"}

    def stop(self, timeout=30):
        """Ends the hold (SIGINT, as Ctrl-C) and returns bench's final report,
        or a record with status failed and the reason."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            out, err = self.proc.communicate()
        forget_group(self.proc.pid)
        try:
            return json.loads(out)
        except ValueError:
            return {"status": "failed",
                    "reason": (err.decode(errors="replace").strip() or
                               f"exit status {self.proc.returncode}")[-300:]}


class Hold(HeldProcess):
    """`sockserv bench --hold`: opens count connections from source addresses
    counted up from source_from, makes hold_requests round trips of size
    bytes on each, says "held", and holds them until stop() (or
    max_seconds, whichever comes first)."""

    def __init__(self, sockserv, url, count, plan, source_from, per_source=1000,
                 hold_requests=0, size=64, connect_rate=None, timeout="10s", max_seconds=300):
        argv = [sockserv, "bench", "--hold", "--json", "-c", str(count),
                "--source-from", source_from, "--per-source", str(per_source),
                "--timeout", timeout, "-d", f"{max_seconds}s"]
        if hold_requests:
            argv += ["--hold-requests", str(hold_requests), "-s", str(size)]
        if connect_rate:
            argv += ["--connect-rate", str(connect_rate)]
        super().__init__([*argv, url], plan)
        self.count = count

    def wait_held(self, timeout):
        """The "held" line as a dict (held, failed, after_s), or one with
        event "timeout" or "gone" and a first_error."""
        return self.next_event(timeout, "held")


class DeliveredCount:
    """The count `sockserv bench --progress-file PATH` keeps: 8 bytes, in
    the machine's byte order, mapped shared, so every read sees the newest
    value. Any process may open one on the same path once bench has made it."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 8, access=mmap.ACCESS_READ)

    def value(self):
        # Python copies the 8 bytes one at a time, so a read that crossed a
        # store is read again.
        while True:
            a = struct.unpack_from("=Q", self._map, 0)[0]
            if struct.unpack_from("=Q", self._map, 0)[0] == a:
                return a

    def close(self):
        self._map.close()


class ChatReceivers(HeldProcess):
    """`sockserv bench --chat-receive`: count members of the chat room at url
    that only listen and check every numbered line they get; wait_joined()
    once, delivered() the lines delivered so far, stop() for the report
    (docs/bench-json.md, "--chat-receive")."""

    def __init__(self, sockserv, url, count, plan, timeout="10s", max_seconds=600):
        self.dir = tempfile.mkdtemp(prefix="sockserv-chat-receive-")
        self.progress_path = os.path.join(self.dir, "delivered")
        super().__init__([sockserv, "bench", "--chat-receive", "--json", "-c", str(count),
                          "--progress-file", self.progress_path, "--timeout", timeout,
                          "-d", f"{max_seconds}s", url], plan)
        self.count = count
        self._count = None

    def wait_joined(self, timeout):
        """The "joined" line as a dict (joined, failed, after_s), or one with
        event "timeout" or "gone" and a first_error."""
        return self.next_event(timeout, "joined")

    def delivered(self):
        if self._count is None:
            self._count = DeliveredCount(self.progress_path)
        return self._count.value()

    def stop(self, timeout=30):
        report = super().stop(timeout)
        if self._count is not None:
            self._count.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return report


def stop_holds(holds):
    """Stops every hold at once, then collects their reports."""
    for h in holds:
        if h.proc.poll() is None:
            h.proc.send_signal(signal.SIGINT)
    return [h.stop() for h in holds]


def hold_summary(report):
    """What a record keeps of a `sockserv bench --hold` report."""
    keep = ("status", "reason", "held", "held_failed", "held_after_s", "requests",
            "requests_failed", "connections_made", "connections_failed", "errors",
            "first_other_error", "latency_us")
    return {k: report[k] for k in keep if k in report}
