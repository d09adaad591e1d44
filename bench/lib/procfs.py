"""Readings from /proc (and ss, which asks the kernel over netlink): what a
process uses, which processes it started, and what the kernel spent.

Readers of one process raise OSError (or ValueError) once it is gone,
except where a docstring says what they return instead."""

import os
import re
import subprocess

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

# -- One process ----------------------------------------------------------------


def stat_fields(pid, tid=None):
    """Fields after the command name in /proc/PID/stat, or in one thread's
    /proc/PID/task/TID/stat (the state is [0], ppid [1], pgrp [2])."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    with open(path) as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()


def command_name(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.index("(") + 1:text.rindex(")")]


def cpu_ticks(pid, tid=None):
    """User plus system CPU time of a process (all its threads), or of one
    thread, in clock ticks."""
    fields = stat_fields(pid, tid)
    return int(fields[11]) + int(fields[12])


def cpu_times(pid):
    """(user, system) CPU seconds of the whole process, or None once it is gone."""
    try:
        fields = stat_fields(pid)
    except (OSError, ValueError):
        return None
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def cpu_seconds(pid):
    """User plus system CPU seconds of the whole process, or None once it is gone."""
    times = cpu_times(pid)
    return sum(times) if times else None


def thread_cpu_ticks(pid):
    """{tid: CPU ticks} of every thread of pid; {} once it is gone."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            out[tid] = cpu_ticks(pid, tid)
        except (OSError, ValueError):
            pass
    return out


def status(pid):
    """/proc/PID/status as {field: value}, sizes in bytes; {} once it is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                value = value.strip()
                out[key] = int(value[:-3]) * 1024 if value.endswith(" kB") else value
    except OSError:
        pass
    return out


def memory(pid):
    """RSS and its parts (bytes) and the thread count; None values once it is gone."""
    s = status(pid)
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


def rss_bytes(pid):
    """Resident set size from /proc/PID/statm."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def fd_count(pid):
    """Open descriptors of pid; 0 once it is gone."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def socket_fd_count(pid):
    """Open socket descriptors of pid; 0 once it is gone."""
    n = 0
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for name in names:
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


# -- Every process ----------------------------------------------------------------


def all_pids():
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def _processes_where(field, value):
    found = {}
    for pid in all_pids():
        try:
            fields = stat_fields(pid)
        except (OSError, ValueError):
            continue
        if int(fields[field]) == value:
            found[pid] = fields[0]
    return found


def processes_in_group(pgid):
    """{pid: state letter} of every process in the process group."""
    return _processes_where(2, pgid)


def children_of(pid):
    """{child pid: state letter} of the direct children of pid."""
    return _processes_where(1, pid)


def descendants(pid):
    """Every process below pid: children, their children, and so on."""
    parent_of = {}
    for other in all_pids():
        try:
            parent_of[other] = int(stat_fields(other)[1])
        except (OSError, ValueError):
            continue
    below, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parent_of.items():
            if ppid == parent:
                below.append(child)
                todo.append(child)
    return below


def group_cpu_ticks(pgid):
    """CPU ticks used so far by every live process in the group (the fork
    model's children are in the server's group, so they count too)."""
    total = 0
    for pid in processes_in_group(pgid):
        try:
            total += cpu_ticks(pid)
        except (OSError, ValueError):
            pass
    return total


def group_rss_bytes(pgid):
    total = 0
    for pid in processes_in_group(pgid):
        try:
            total += rss_bytes(pid)
        except (OSError, ValueError):
            pass
    return total


# -- The kernel --------------------------------------------------------------------


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def steal_seconds():
    """CPU time the hypervisor took from this machine (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def meminfo():
    """/proc/meminfo as {field: bytes} (counts stay counts)."""
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


def _ss(args):
    try:
        return subprocess.run(["ss", *args], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def ss_server_side(port):
    """(established sockets whose local port is PORT, connections waiting in
    PORT's accept queue), through netlink (ss): unlike listing /proc/PID/fd,
    this allocates nothing in the kernel's dentry and inode caches, so it
    can run between two kernel memory readings."""
    match = f"( sport = :{port} )"
    established = sum(1 for line in _ss(["-tnH", "state", "established", match]).splitlines()
                      if line.strip())
    queued = 0
    for line in _ss(["-tnH", "-l", match]).splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            queued += int(parts[1])
    return established, queued


def ss_skmem_sample(port, limit=2000):
    """skmem of the server's established sockets on PORT (ss -tmn), summed
    over at most LIMIT: what socket buffers hold for idle connections."""
    text = _ss(["-tmnH", "state", "established", f"( sport = :{port} )"])
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


def child_pids(pid):
    """The direct children of pid, lowest pid first."""
    return sorted(children_of(pid))
