#!/usr/bin/env python3
"""
Helpers shared by bench/memory_scale.py, bench/chat_fanout.py and
bench/rivals.py (not by bench/run.py, which stands alone).

  Server        a server process (sockserv or a rival) pinned to a core,
                started in its own session and killed with its whole group
  process readings from /proc: RSS, descriptors, CPU time, children
  kernel readings: /proc/meminfo, /proc/slabinfo, /proc/net/sockstat
  Holders       client processes that open, exercise and hold many idle TCP
                connections from spread-out 127.x.y.z source addresses;
                `python3 bench/common_more.py hold ARGS_JSON` is one of them
  Histogram     a log-linear latency histogram that merges across processes
  the machine   load averages, busy processes, cores

Standard library only. Every loop here is bounded in time.
"""

import atexit
import errno
import json
import os
import platform
import re
import resource
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
LISTENING = re.compile(r"^listening ((tcp|udp)://\S+)$")
# Linux's IP_BIND_ADDRESS_NO_PORT: bind() fixes only the source address and
# the port is chosen at connect(), unique per 4-tuple rather than per address.
IP_BIND_ADDRESS_NO_PORT = 24
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(text):
    print(text, file=sys.stderr, flush=True)


# -- The binary ------------------------------------------------------------

_private_dir = None


def sockserv_binary():
    """A private copy of sockserv (SOCKSERV, else build/sockserv), so that a
    rebuild by someone else during a run cannot swap the binary under it."""
    global _private_dir
    source = os.environ.get("SOCKSERV") or str(REPO / "build" / "sockserv")
    if not os.access(source, os.X_OK):
        sys.exit(f"{source} is not built (run make, or set SOCKSERV)")
    if _private_dir is None:
        _private_dir = tempfile.mkdtemp(prefix="sockserv-bench-")
        atexit.register(shutil.rmtree, _private_dir, True)
    copy = os.path.join(_private_dir, "sockserv")
    if not os.path.exists(copy):
        shutil.copy2(source, copy)
    return copy


# -- Cores -----------------------------------------------------------------

def core_plan():
    """(server core, load cores): the first core for the server, the rest for
    load; (None, None) on one core."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None
    return cores[0], cores[1:]


SERVER_CORE, LOAD_CORES = core_plan()


def pin_load():
    """Pins the calling process to the load cores (used in children)."""
    if LOAD_CORES:
        os.sched_setaffinity(0, LOAD_CORES)


def pinned_server(argv):
    return ["taskset", "-c", str(SERVER_CORE), *argv] if SERVER_CORE is not None else list(argv)


def pinned_load(argv):
    if not LOAD_CORES:
        return list(argv)
    return ["taskset", "-c", ",".join(map(str, LOAD_CORES)), *argv]


# -- Servers ---------------------------------------------------------------

_live_groups = set()


def _kill_groups():
    for pgid in list(_live_groups):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _live_groups.clear()


atexit.register(_kill_groups)


def _terminated(signo, frame):
    raise KeyboardInterrupt


def install_signal_handlers():
    """SIGTERM ends a script like Ctrl-C: servers and holders are killed on
    the way out (atexit and the with-blocks), never left behind."""
    signal.signal(signal.SIGTERM, _terminated)


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(host, port, deadline, proc=None):
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    """A server process pinned to the server core, in a session (process
    group) of its own so that it and any children die together.

    sockserv: Server([sockserv, "serve", ...]) waits for its "listening" line.
    Anything else: Server(argv, port=P) waits until P accepts a connection.
    """

    def __init__(self, argv, port=None, start_timeout=15.0, pin=True):
        self.argv = pinned_server(argv) if pin else list(argv)
        # A server that is not sockserv prints what it likes on either
        # stream: both are kept together for the report.
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE if port is None else subprocess.STDOUT,
                                     start_new_session=True)
        _live_groups.add(self.proc.pid)
        self.url = None
        self.port = port
        self.stderr_tail = b""
        deadline = time.monotonic() + start_timeout
        if port is None:
            while time.monotonic() < deadline:
                line = self.proc.stdout.readline()
                if not line:
                    break
                m = LISTENING.match(line.decode(errors="replace").strip())
                if m:
                    self.url = m.group(1)
                    self.port = int(self.url.split("//")[1].split("/")[0].rsplit(":", 1)[1])
                    break
            # Nothing reads stdout from here on; sockserv writes nothing more.
        elif not wait_for_port("127.0.0.1", port, deadline, self.proc):
            self.port = None
        else:
            self.url = f"tcp://127.0.0.1:{port}"
        if self.port is None:
            reason = self.close()
            raise RuntimeError(reason or f"server exited with {self.proc.returncode}")
        self._drain_stderr_later()

    def _drain_stderr_later(self):
        """A thread keeps the server's stderr pipe empty (so a chatty server
        never blocks on it) and keeps its last few KiB for the report."""
        import threading

        def drain(stream):
            while True:
                try:
                    chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
                except (OSError, ValueError):
                    return
                if not chunk:
                    return
                self.stderr_tail = (self.stderr_tail + chunk)[-4096:]

        stream = self.proc.stderr if self.proc.stderr is not None else self.proc.stdout
        self._drainer = threading.Thread(target=drain, args=(stream,), daemon=True)
        self._drainer.start()

    @property
    def pid(self):
        """The server's own pid (taskset execs it, so it is the same)."""
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        """Kills the server's whole group; returns the last line of stderr."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        _live_groups.discard(self.proc.pid)
        tail = self.stderr_tail
        drainer = getattr(self, "_drainer", None)
        if drainer is not None:
            drainer.join(2)
            tail = self.stderr_tail
        else:
            try:
                stream = self.proc.stderr if self.proc.stderr is not None else self.proc.stdout
                tail = stream.read()[-4096:]
            except (OSError, ValueError):
                pass
        for stream in (self.proc.stdout, self.proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        lines = tail.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- Process readings ----------------------------------------------------------

def proc_status(pid):
    """/proc/PID/status as {field: value}, sizes in bytes."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                value = value.strip()
                if value.endswith(" kB"):
                    out[key] = int(value[:-3]) * 1024
                else:
                    out[key] = value
    except OSError:
        pass
    return out


def memory(pid):
    s = proc_status(pid)
    return {k: s.get(k) for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData")} | {
        "Threads": int(s.get("Threads", 0) or 0)}


def pss(pid):
    """Proportional set size in bytes (/proc/PID/smaps_rollup), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def socket_fd_count(pid):
    n = 0
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


def stat_ticks(path):
    """(name, utime, stime in clock ticks) from a /proc stat file: a
    process's (/proc/PID/stat, every thread) or one thread's
    (/proc/PID/task/TID/stat); None once it is gone."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return text[text.index("(") + 1:text.rindex(")")], int(fields[11]), int(fields[12])


def cpu_times(pid):
    """(utime, stime) of the whole process (every thread), in seconds:
    the time it ran its own code and the time the kernel ran for it."""
    ticks = stat_ticks(f"/proc/{pid}/stat")
    return (ticks[1] / CLK_TCK, ticks[2] / CLK_TCK) if ticks else None


def cpu_seconds(pid):
    """utime + stime of the whole process (every thread), in seconds."""
    times = cpu_times(pid)
    return sum(times) if times else None


def steal_seconds():
    """CPU time the hypervisor took from this machine (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / CLK_TCK
    except (OSError, ValueError, IndexError):
        return 0.0


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


# -- Kernel readings ---------------------------------------------------------

def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            parts = value.split()
            if parts:
                out[key] = int(parts[0]) * (1024 if len(parts) > 1 else 1)
    return out


def slabinfo():
    """{cache: bytes in use} from /proc/slabinfo (root only), or {}."""
    out = {}
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                if line.startswith(("slabinfo", "#")):
                    continue
                parts = line.split()
                out[parts[0]] = int(parts[1]) * int(parts[3])  # active objects * object size
    except (OSError, ValueError, IndexError):
        pass
    return out


def sockstat():
    """/proc/net/sockstat's TCP line: inuse, orphan, tw, alloc, mem (pages)."""
    try:
        with open("/proc/net/sockstat") as f:
            for line in f:
                if line.startswith("TCP:"):
                    parts = line.split()[1:]
                    return {parts[i]: int(parts[i + 1]) for i in range(0, len(parts), 2)}
    except (OSError, ValueError):
        pass
    return {}


def kernel_snapshot():
    m = meminfo()
    return {"Slab": m.get("Slab"), "SUnreclaim": m.get("SUnreclaim"),
            "KernelStack": m.get("KernelStack"), "PageTables": m.get("PageTables"),
            "MemAvailable": m.get("MemAvailable"), "slabinfo": slabinfo(),
            "sockstat": sockstat()}


def kernel_growth(before, after, count):
    """What the kernel grew by between two snapshots, per connection, with
    the slab caches that grew most."""
    out = {"connections": count}
    for key in ("Slab", "SUnreclaim", "KernelStack", "PageTables"):
        if before.get(key) is not None and after.get(key) is not None:
            out[f"{key}_growth_bytes"] = after[key] - before[key]
            out[f"{key}_per_connection"] = round((after[key] - before[key]) / count, 1)
    caches = []
    for name, value in after["slabinfo"].items():
        grew = value - before["slabinfo"].get(name, 0)
        # proc_inode_cache grows when anyone lists /proc/PID/fd (the
        # measurement itself, not the connections); left out.
        if grew > 0 and name != "proc_inode_cache":
            caches.append((grew, name))
    caches.sort(reverse=True)
    out["slab_caches_per_connection"] = {name: round(grew / count, 1)
                                         for grew, name in caches[:12]
                                         if grew / count >= 8}
    out["slabinfo_total_per_connection"] = round(sum(g for g, _ in caches) / count, 1)
    tcp_b, tcp_a = before["sockstat"], after["sockstat"]
    if tcp_b and tcp_a:
        out["tcp_sockets_in_use_growth"] = tcp_a.get("inuse", 0) - tcp_b.get("inuse", 0)
        out["tcp_buffer_pages_growth"] = tcp_a.get("mem", 0) - tcp_b.get("mem", 0)
    return out


def ss_server_side(port):
    """(established sockets whose local port is PORT, connections waiting in
    PORT's accept queue), through netlink (ss): unlike listing /proc/PID/fd,
    this allocates nothing in the kernel's dentry and inode caches, so it
    can run between two kernel memory readings."""
    def ss(args):
        try:
            return subprocess.run(["ss", "-tnH", *args, f"( sport = :{port} )"],
                                  capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            return ""
    established = sum(1 for line in ss(["state", "established"]).splitlines() if line.strip())
    queued = 0
    for line in ss(["-l"]).splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            queued += int(parts[1])
    return established, queued


def ss_skmem_sample(port, limit=2000):
    """skmem of the server's established sockets on PORT (ss -tmn), summed
    over at most LIMIT: what socket buffers hold for idle connections."""
    try:
        text = subprocess.run(["ss", "-tmnH", "state", "established", f"( sport = :{port} )"],
                              capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    totals, n = {}, 0
    for m in re.finditer(r"skmem:\(([^)]*)\)", text):
        if n >= limit:
            break
        n += 1
        for item in m.group(1).split(","):
            km = re.match(r"([a-z]+)(\d+)", item)
            if km:
                totals[km.group(1)] = totals.get(km.group(1), 0) + int(km.group(2))
    if not n:
        return {"sockets": 0}
    return {"sockets": n, "mean": {k: round(v / n, 1) for k, v in totals.items()},
            "legend": "r rmem_alloc, rb rcvbuf, t wmem_alloc, tb sndbuf, f fwd_alloc, "
                      "w wmem_queued, o opt_mem, bl backlog, d drops (bytes)"}


# -- The machine ---------------------------------------------------------------

def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def busy_processes(seconds_=1.0, threshold=0.2, exclude=()):
    """Processes that used more than threshold of a core during a short sample."""
    def sample():
        ticks = {}
        for name in os.listdir("/proc"):
            found = stat_ticks(f"/proc/{name}/stat") if name.isdigit() else None
            if found:
                ticks[int(name)] = (found[0], found[1] + found[2])
        return ticks

    before = sample()
    time.sleep(seconds_)
    after = sample()
    busy = []
    skip = {os.getpid(), *exclude}
    for pid, (name, ticks) in after.items():
        if pid in before and pid not in skip:
            share = (ticks - before[pid][1]) / CLK_TCK / seconds_
            if share >= threshold:
                busy.append({"pid": pid, "name": name, "cpu_share": round(share, 2)})
    return sorted(busy, key=lambda b: -b["cpu_share"])


def other_benchmarks():
    """Command lines of benchmark processes that are not ours (bench/run.py,
    sockserv bench, rival servers): what may disturb a measurement."""
    mine = {os.getpid(), *descendants(os.getpid())}
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in mine:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if re.search(r"bench/run\.py|sockserv (bench|serve)|echo_server", cmd):
            found.append(f"{name}: {cmd[:120]}")
    return found


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine_basics():
    """What every report names about the machine."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_mib": meminfo().get("MemTotal", 0) // (1024 * 1024),
        "kernel": platform.release(),
        "fd_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    }


def machine():
    def read(path):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            return None

    return {
        **machine_basics(),
        "server_core": SERVER_CORE,
        "load_cores": LOAD_CORES,
        "ip_local_port_range": read("/proc/sys/net/ipv4/ip_local_port_range"),
        "tcp_mem_pages": read("/proc/sys/net/ipv4/tcp_mem"),
        "tcp_rmem": read("/proc/sys/net/ipv4/tcp_rmem"),
        "tcp_wmem": read("/proc/sys/net/ipv4/tcp_wmem"),
        "somaxconn": read("/proc/sys/net/core/somaxconn"),
        "file_max": read("/proc/sys/fs/file-max"),
        "load_average_at_start": load_average(),
        "busy_processes_at_start": busy_processes(),
        "other_benchmarks_at_start": other_benchmarks(),
        "sockserv": os.environ.get("SOCKSERV") or str(REPO / "build" / "sockserv"),
        **binary_identity(),
    }


def binary_identity():
    """Which sockserv ran: the copy's sha256 and its source's build time, and
    the repository's commit, with whether src/ differed from it."""
    import hashlib
    out = {}
    source = os.environ.get("SOCKSERV") or str(REPO / "build" / "sockserv")
    try:
        with open(sockserv_binary(), "rb") as f:
            out["sockserv_sha256"] = hashlib.sha256(f.read()).hexdigest()
        out["sockserv_built"] = time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                              time.localtime(os.stat(source).st_mtime))
    except OSError:
        pass
    try:
        out["git_head"] = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                         capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        out["src_differs_from_head"] = bool(dirty)
    except (OSError, subprocess.TimeoutExpired):
        pass
    return out


def machine_line(m):
    busy = ", ".join(f"{b['name']} (pid {b['pid']}, {b['cpu_share'] * 100:.0f}% of a core)"
                     for b in m["busy_processes_at_start"])
    return (f"{m['cpu']}, {m['cores']} cores, {m['memory_mib']} MiB, Linux {m['kernel']}, "
            f"descriptor limit {m['fd_limit']}. "
            + (f"Server pinned to core {m['server_core']}, load to core(s) "
               f"{','.join(map(str, m['load_cores']))}. " if m["server_core"] is not None
               else "One core: server and load unpinned. ")
            + f"Load average at start: {', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}"
            + (f"; busy at start: {busy}" if busy else "; nothing else busy at start")
            + (f"; other benchmark processes: {len(m['other_benchmarks_at_start'])}"
               if m["other_benchmarks_at_start"] else "") + "."
            + (f" sockserv built {m['sockserv_built']} (sha256 {m['sockserv_sha256'][:12]}), "
               f"repository at {m.get('git_head', '?')}"
               + (" with src/ changes" if m.get("src_differs_from_head") else "") + "."
               if m.get("sockserv_sha256") else ""))


def output_dir(out, quick):
    """--out, else bench/results, except that --quick writes to a fresh
    temporary directory: smoke numbers never replace real ones."""
    if out:
        return Path(out)
    if quick:
        return Path(tempfile.mkdtemp(prefix="sockserv-bench-quick-"))
    return RESULTS


def write_results(name, results, markdown_text, out_dir=RESULTS):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / f"{name}.json", "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    with open(out_dir / f"{name}.md", "w") as f:
        f.write(markdown_text.rstrip() + "\n")
    return out_dir / f"{name}.json", out_dir / f"{name}.md"


def fmt_bytes(n):
    if n is None:
        return "-"
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{sign}{n / size:.1f} {unit}"
    return f"{sign}{n:.0f} B"


def fmt_us(us):
    if us is None:
        return "-"
    if us < 1000:
        return f"{us:.0f} µs"
    if us < 1e6:
        return f"{us / 1000:.1f} ms"
    return f"{us / 1e6:.2f} s"


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


# -- Latency histogram ----------------------------------------------------------

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


# -- sockserv bench ------------------------------------------------------------

def run_bench(sockserv, url, args, limit, server_pid=None, cpu_after_s=0.0, pin=True):
    """One `sockserv bench --json` on the load cores (pin=False: on any
    core). With server_pid, the server's CPU time is read cpu_after_s into
    the run (the end of the warmup) and again when the bench exits."""
    argv = [sockserv, "bench", "--json", *args, url]
    argv = pinned_load(argv) if pin else argv
    started = time.monotonic()
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    cpu0 = t0 = None
    if server_pid is not None:
        time.sleep(cpu_after_s)
        cpu0, t0 = cpu_times(server_pid), time.monotonic()
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"command": " ".join(argv), "status": "failed",
                "reason": f"bench still running after {limit:.0f}s"}
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    record = {"command": " ".join(argv), "wall_s": round(time.monotonic() - started, 3),
              "load_cpu_s": round(usage1.ru_utime - usage0.ru_utime +
                                  usage1.ru_stime - usage0.ru_stime, 3)}
    if server_pid is not None:
        cpu1, t1 = cpu_times(server_pid), time.monotonic()
        if cpu0 is not None and cpu1 is not None:
            record["server_cpu_s"] = round(sum(cpu1) - sum(cpu0), 3)
            record["server_user_cpu_s"] = round(cpu1[0] - cpu0[0], 3)
            record["server_cpu_window_s"] = round(t1 - t0, 3)
    try:
        record["result"] = json.loads(out)
    except ValueError:
        record.update(status="failed",
                      reason=(err.decode(errors="replace").strip() or
                              f"exit status {proc.returncode}")[-300:])
        return record
    r = record["result"]
    if r["requests"] == 0:
        record.update(status="failed", reason="no request succeeded: " + ", ".join(
            f"{v} {k}" for k, v in r["errors"].items() if v))
    elif r["requests_failed"] > 0:
        record["status"] = "errors"
    else:
        record["status"] = "ok"
    return record


# -- Connection holders ----------------------------------------------------------

def source_address(base, index, per_source):
    """The index-th connection's source address: per_source connections on
    each address counted up from base, skipping .0 and .255 in the last octet."""
    n = int.from_bytes(socket.inet_aton(base), "big")
    step = index // per_source
    while step > 0:
        n += 1
        if n & 0xFF not in (0, 255):
            step -= 1
    return socket.inet_ntoa(n.to_bytes(4, "big"))


def _source_list(base, count, per_source):
    out, n = [], int.from_bytes(socket.inet_aton(base), "big")
    while len(out) * per_source < count:
        if n & 0xFF not in (0, 255):
            out.append(socket.inet_ntoa(n.to_bytes(4, "big")))
        n += 1
    return out


class _Hold:
    """The body of one holder process: see hold_main."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.socks = []
        self.deadline = time.monotonic() + cfg["max_seconds"]

    def reply(self, obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def connect(self):
        cfg = self.cfg
        host, port, count = cfg["host"], cfg["port"], cfg["count"]
        sources = _source_list(cfg["source_base"], count, cfg["per_source"])
        inflight_max, rate = cfg.get("inflight", 256), cfg.get("rate", 20000)
        timeout = cfg.get("connect_timeout", 10.0)
        ep = select.epoll()
        pending = {}
        errors = {}
        first_error = None
        started = time.monotonic()
        made = 0
        stop_creating = False
        i = 0
        while (i < count and not stop_creating) or pending:
            now = time.monotonic()
            if now > self.deadline:
                first_error = first_error or "holder deadline passed while connecting"
                break
            allowed = int((now - started) * rate) + 1
            while (i < count and not stop_creating and len(pending) < inflight_max
                   and i < allowed):
                src = sources[i // cfg["per_source"]]
                i += 1
                try:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                except OSError as e:
                    name = errno.errorcode.get(e.errno, str(e.errno))
                    errors[f"socket:{name}"] = errors.get(f"socket:{name}", 0) + 1
                    first_error = first_error or f"socket(): {e.strerror} ({name})"
                    stop_creating = True
                    break
                try:
                    s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                    s.bind((src, 0))
                    s.setblocking(False)
                    rc = s.connect_ex((host, port))
                except OSError as e:
                    rc = e.errno
                if rc == 0:
                    self.socks.append(s)
                    made += 1
                elif rc == errno.EINPROGRESS:
                    pending[s.fileno()] = (s, time.monotonic())
                    ep.register(s.fileno(), select.EPOLLOUT)
                else:
                    name = errno.errorcode.get(rc, str(rc))
                    errors[f"connect:{name}"] = errors.get(f"connect:{name}", 0) + 1
                    first_error = first_error or f"connect() from {src}: {os.strerror(rc)} ({name})"
                    s.close()
                    if rc in (errno.EADDRNOTAVAIL, errno.EMFILE, errno.ENFILE, errno.ENOBUFS,
                              errno.ENOMEM):
                        stop_creating = True
            for fd, _ in ep.poll(0.01):
                s, _ = pending.pop(fd)
                ep.unregister(fd)
                rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if rc == 0:
                    self.socks.append(s)
                    made += 1
                else:
                    name = errno.errorcode.get(rc, str(rc))
                    errors[f"connect:{name}"] = errors.get(f"connect:{name}", 0) + 1
                    first_error = first_error or f"connect(): {os.strerror(rc)} ({name})"
                    s.close()
            now = time.monotonic()
            for fd, (s, t) in list(pending.items()):
                if now - t > timeout:
                    pending.pop(fd)
                    ep.unregister(fd)
                    s.close()
                    errors["connect:timeout"] = errors.get("connect:timeout", 0) + 1
                    first_error = first_error or f"connect(): no answer within {timeout}s"
        for fd, (s, _) in pending.items():
            s.close()
        ep.close()
        self.reply({"event": "connected", "asked": count, "attempted": i, "established": made,
                    "errors": errors, "first_error": first_error,
                    "elapsed_s": round(time.monotonic() - started, 3),
                    "sources": len(sources)})

    def echo(self, size):
        """One round trip on every connection: size bytes out, the same back."""
        started = time.monotonic()
        timeout = self.cfg.get("echo_timeout", 60.0)
        deadline = min(self.deadline, started + timeout)
        ep = select.epoll()
        want = {}
        errors = {}
        first_error = None
        for n, s in enumerate(self.socks):
            msg = (b"%d " % n).ljust(size - 1, b"x")[:size - 1] + b"\n"
            try:
                sent = s.send(msg)
            except OSError as e:
                sent = -1
                name = errno.errorcode.get(e.errno, str(e.errno))
                errors[f"send:{name}"] = errors.get(f"send:{name}", 0) + 1
                first_error = first_error or f"send(): {e.strerror}"
            if sent == len(msg):
                want[s.fileno()] = [s, msg, b""]
                ep.register(s.fileno(), select.EPOLLIN)
            elif sent >= 0:
                errors["send:short"] = errors.get("send:short", 0) + 1
        ok = 0
        while want and time.monotonic() < deadline:
            for fd, _ in ep.poll(0.05):
                entry = want.get(fd)
                if entry is None:
                    continue
                s, msg, got = entry
                try:
                    chunk = s.recv(len(msg) - len(got))
                except BlockingIOError:
                    continue
                except OSError as e:
                    chunk = None
                    name = errno.errorcode.get(e.errno, str(e.errno))
                    errors[f"recv:{name}"] = errors.get(f"recv:{name}", 0) + 1
                    first_error = first_error or f"recv(): {e.strerror}"
                if chunk == b"":
                    errors["recv:closed"] = errors.get("recv:closed", 0) + 1
                    first_error = first_error or "server closed the connection"
                if not chunk:
                    ep.unregister(fd)
                    del want[fd]
                    continue
                got += chunk
                entry[2] = got
                if len(got) == len(msg):
                    ep.unregister(fd)
                    del want[fd]
                    if got == msg:
                        ok += 1
                    else:
                        errors["mismatch"] = errors.get("mismatch", 0) + 1
        if want:
            errors["timeout"] = len(want)
            first_error = first_error or f"{len(want)} echoes unanswered after {timeout}s"
        ep.close()
        self.reply({"event": "echoed", "connections": len(self.socks), "ok": ok,
                    "errors": errors, "first_error": first_error,
                    "elapsed_s": round(time.monotonic() - started, 3)})

    def close_all(self):
        linger = (1).to_bytes(4, "little") + (0).to_bytes(4, "little")
        for s in self.socks:
            try:
                # An abortive close (RST) leaves no TIME_WAIT behind, so a
                # rerun finds every source port free.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                s.close()
            except OSError:
                pass
        n = len(self.socks)
        self.socks = []
        return n

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(sys.stdin, selectors.EVENT_READ)
        try:
            while time.monotonic() < self.deadline:
                if not sel.select(max(0.0, min(1.0, self.deadline - time.monotonic()))):
                    continue
                line = sys.stdin.readline()
                if not line:
                    break  # whoever started us is gone
                cmd = line.split()
                if not cmd:
                    continue
                if cmd[0] == "connect":
                    self.connect()
                elif cmd[0] == "echo":
                    self.echo(int(cmd[1]) if len(cmd) > 1 else 16)
                elif cmd[0] == "count":
                    self.reply({"event": "count", "connections": len(self.socks)})
                elif cmd[0] == "close":
                    self.reply({"event": "closed", "connections": self.close_all()})
                    break
        finally:
            self.close_all()



def hold_main(args_json):
    cfg = json.loads(args_json)
    pin_load()
    _Hold(cfg).run()


class Holder:
    """A holder process seen from the script: send it commands, read replies,
    each with a time limit. It exits by itself at max_seconds or when its
    stdin closes."""

    def __init__(self, host, port, count, source_base, per_source=1000, max_seconds=300,
                 rate=20000, inflight=256, echo_timeout=60.0):
        cfg = {"host": host, "port": port, "count": count, "source_base": source_base,
               "per_source": per_source, "max_seconds": max_seconds, "rate": rate,
               "inflight": inflight, "echo_timeout": echo_timeout}
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__)), "hold", json.dumps(cfg)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     start_new_session=True)
        _live_groups.add(self.proc.pid)

    def send(self, command):
        try:
            self.proc.stdin.write((command + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def read(self, timeout):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            sel.close()
            return {"event": "timeout", "first_error": f"holder silent for {timeout:.0f}s"}
        sel.close()
        line = self.proc.stdout.readline()
        if not line:
            return {"event": "gone", "first_error":
                    f"holder exited with status {self.proc.poll()}"}
        return json.loads(line)

    def close(self):
        self.send("close")
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        _live_groups.discard(self.proc.pid)


def all_holders(holders, command, timeout):
    """Sends command to every holder at once, then collects every reply."""
    for h in holders:
        h.send(command)
    deadline = time.monotonic() + timeout
    return [h.read(max(0.1, deadline - time.monotonic())) for h in holders]


def close_holders(holders):
    for h in holders:
        h.send("close")
    for h in holders:
        h.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "hold":
        hold_main(sys.argv[2])
    else:
        sys.exit("usage: common_more.py hold CONFIG_JSON (started by the bench scripts)")
