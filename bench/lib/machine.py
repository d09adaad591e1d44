"""What a report says about the machine a run had: its hardware and kernel,
its network settings, what else was busy, and which sockserv ran."""

import hashlib
import os
import platform
import re
import resource
import subprocess
import time

from . import procfs
from .servers import REPO, sockserv_binary, sockserv_source


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def basics():
    """What every report names about the machine."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_mib": procfs.meminfo().get("MemTotal", 0) // (1024 * 1024),
        "kernel": platform.release(),
        "fd_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    }


def busy_processes(sample_s=1.0, threshold=0.2, exclude=()):
    """Processes that used more than threshold of a core during a short sample."""
    def sample():
        ticks = {}
        for pid in procfs.all_pids():
            try:
                ticks[pid] = (procfs.command_name(pid), procfs.cpu_ticks(pid))
            except (OSError, ValueError):
                pass
        return ticks

    before = sample()
    time.sleep(sample_s)
    after = sample()
    busy = []
    skip = {os.getpid(), *exclude}
    for pid, (name, ticks) in after.items():
        if pid in before and pid not in skip:
            share = (ticks - before[pid][1]) / procfs.CLOCK_TICKS / sample_s
            if share >= threshold:
                busy.append({"pid": pid, "name": name, "cpu_share": round(share, 2)})
    return sorted(busy, key=lambda b: -b["cpu_share"])


def other_benchmarks():
    """Command lines of benchmark processes that are not ours (bench/run.py,
    sockserv bench, rival servers): what may disturb a measurement."""
    mine = {os.getpid(), *procfs.descendants(os.getpid())}
    found = []
    for pid in procfs.all_pids():
        if pid in mine:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if re.search(r"bench/run\.py|sockserv (bench|serve)|echo_server", cmd):
            found.append(f"{pid}: {cmd[:120]}")
    return found


def binary_identity():
    """Which sockserv ran: the copy's sha256 and its source's build time, and
    the repository's commit, with whether src/ differed from it."""
    out = {}
    try:
        with open(sockserv_binary(), "rb") as f:
            out["sockserv_sha256"] = hashlib.sha256(f.read()).hexdigest()
        out["sockserv_built"] = time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                              time.localtime(os.stat(sockserv_source()).st_mtime))
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


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def described(plan):
    """Everything the memory, chat, balance and rivals reports say about the
    machine, with the cores of plan (a cores.CorePlan)."""
    return {
        **basics(),
        "server_core": plan.server[0] if plan.server else None,
        "load_cores": plan.load or None,
        "ip_local_port_range": _read("/proc/sys/net/ipv4/ip_local_port_range"),
        "tcp_mem_pages": _read("/proc/sys/net/ipv4/tcp_mem"),
        "tcp_rmem": _read("/proc/sys/net/ipv4/tcp_rmem"),
        "tcp_wmem": _read("/proc/sys/net/ipv4/tcp_wmem"),
        "somaxconn": _read("/proc/sys/net/core/somaxconn"),
        "file_max": _read("/proc/sys/fs/file-max"),
        "load_average_at_start": procfs.load_average(),
        "busy_processes_at_start": busy_processes(),
        "other_benchmarks_at_start": other_benchmarks(),
        "sockserv": sockserv_source(),
        **binary_identity(),
    }


def busy_text(busy):
    return ", ".join(f"{b['name']} (pid {b['pid']}, {b['cpu_share'] * 100:.0f}% of a core)"
                     for b in busy)


def sentence(m):
    """described()'s record as the sentence a report opens with."""
    busy = busy_text(m["busy_processes_at_start"])
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
