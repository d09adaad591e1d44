"""The rivals experiment's tables and its Markdown."""

from bench.experiments.rivals import TARGET_RATIO, signal_names
from bench.lib import machine, report

def size_label(size):
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} B"


def results_table(points):
    rows = []
    for point in points:
        for name, s in point["servers"].items():
            errs = ", ".join(f"{v} {k}" for k, v in s["errors_total"].items() if v)
            status = "/".join(x or "?" for x in s["statuses"]) + (f" ({errs})" if errs else "")
            if s["reasons"]:
                status += "; " + signal_names("; ".join(s["reasons"]))[:200]

            def show(x):
                return "-" if x is None else x
            rows.append([point["kind"], size_label(point["size"]), f"{point['connections']:,}",
                         name, f"{s['requests_per_s'] or 0:,.0f}", report.fmt_us(s["p99_us"]),
                         show(s["server_cpu_share"]), show(s.get("server_user_share")),
                         show(s["load_cpu_share"]), f"{s['requests_per_server_cpu_s'] or 0:,.0f}",
                         status])
    return report.table(["kind", "message>", "connections>", "server", "requests/s>", "p99>",
                         "server CPU share>", "user share>", "load CPU share>",
                         "requests per server CPU-s>", "status, errors"], rows)


def ratios_table(points):
    rows = []

    def show(x):
        if x is None:
            return "-"
        return f"**{x:.2f}x**" if x >= TARGET_RATIO else f"{x:.2f}x"
    for point in points:
        for rname, r in point.get("ratios", {}).items():
            rows.append([point["kind"], rname, size_label(point["size"]),
                         f"{point['connections']:,}", show(r["requests_per_s"]),
                         show(r.get("requests_per_s_paired")), show(r["p99"]),
                         show(r["per_server_cpu_s"]), show(r.get("per_server_cpu_s_paired")),
                         signal_names(r["rival_status"])])
    return report.table(["kind", "rival", "message>", "connections>", "requests/s>",
                         "requests/s, paired>", "p99>", "per server CPU-s>",
                         "per server CPU-s, paired>", "rival status"], rows)


def markdown(results):
    cfg = results["settings"]
    m = results["machine"]
    lines = [
        "# sockserv beside other single-threaded C echo servers",
        "",
        f"Run {results['generated']} on {machine.sentence(m)}"
        + (" **Quick settings: a check of the script, not a measurement.**" if results["quick"]
           else ""),
        "",
    ]
    if results["rivals"]:
        lines.append("Rivals (SOCKSERV_RIVALS): " + "; ".join(
            f"{r['name']} (`{r['command']}`, against sockserv {r['kind']})"
            for r in results["rivals"]) + ". Their source and binaries are not in this repository.")
    else:
        lines.append("**No rivals were given** (set SOCKSERV_RIVALS, see the script's help): "
                     "only sockserv's epoll and uring ran, and there are no ratios.")
    lines += [
        "",
        f"Command: `{results['command']}`. Each run: a fresh server pinned to core 0; "
        f"`sockserv bench --json -t 1 -c N -s SIZE -d {cfg['duration']} --warmup "
        f"{cfg['warmup']} ({cfg['warmup_from_1000']} from 1,000 connections) --timeout "
        f"{cfg['timeout']}` pinned to core 1. Runs interleaved (sockserv, rival, sockserv, "
        f"rival...), each figure the median of {cfg['repeats']}. Server CPU share = the "
        "server's utime+stime over the measured window / the window; requests per server "
        "CPU-second = requests/s / server CPU share (the measure that survives a load "
        "generator that is the bottleneck). Loopback TCP processing is charged to whichever "
        "process is running when it happens, so CPU figures are approximate for every server "
        "alike. User share: the part of the server's CPU time spent in its own code "
        "(utime / (utime+stime)); the rest is the kernel's TCP and event work, the same "
        "for every server, so no server can be faster than 1 / (1 - its user share) "
        "times a server whose own code costs nothing.",
        "",
        *results_table(results["points"]),
    ]
    if results["rivals"]:
        lines += [
            "",
            "## Ratios sockserv / rival",
            "",
            f"Target: at least {TARGET_RATIO}x. requests/s and requests per server CPU-second: "
            "above 1 is sockserv ahead; p99: rival's p99 / sockserv's, above 1 is sockserv ahead. "
            "\"paired\": the median of the three per-round ratios (each round runs sockserv "
            "and the rival back to back); this machine drifts between a faster and a slower "
            "state over minutes, which moves the plain ratio of medians by up to 30%, so "
            "read differences under about 10% as noise. "
            "A rival that failed (errors, stalls, died) is marked: its ratio is not a speed.",
            "",
            *ratios_table(results["points"]),
        ]
    capped = results.get("capped")
    if capped:
        lines += ["", "## Each server held to the same CPU budget", ""]
        if capped.get("skipped"):
            lines.append(f"Not measured: {capped['skipped']}.")
        else:
            lines += [
                f"The same runs with every server held to {capped['share']:.0%} of its core "
                "by the cgroup CPU controller (`bench/lib/cpu_cap.py`: quota "
                f"{capped['share']:.0%} of a 10 ms period), so that the server, not the "
                "load generator on the other core, is the bottleneck, and requests/s says "
                "what each server does with the same CPU. Server CPU share is then at most "
                f"{capped['share']}; latencies include the throttled stretches.",
                "",
                *results_table(capped["points"]),
            ]
            if results["rivals"]:
                lines += ["", *ratios_table(capped["points"])]
    sc = results.get("syscalls")
    if sc:
        lines += ["", "## System calls per request", ""]
        if sc.get("skipped"):
            lines.append(f"Not measured: {sc['skipped']}")
        else:
            lines += [
                f"{cfg['syscall_connections']} connections, {cfg['syscall_size']} B, "
                f"{cfg['syscall_duration']} with no warmup; `perf stat -e raw_syscalls:sys_enter "
                "-e syscalls:sys_enter_<call>... -p SERVER_PID` attached for the whole bench run "
                "(connection set-up included: 50 accepts and closes). For io_uring servers the "
                "work submitted through the ring is not a system call: this counts the "
                "io_uring_enter calls.",
                "",
                "| server | requests | syscalls | per request | by call, per request |",
                "|---|---:|---:|---:|---|",
            ]
            for r in sc["runs"]:
                if r.get("status") != "ok":
                    lines.append(f"| {r['server']} | failed: {r.get('reason')} | | | |")
                    continue
                by = ", ".join(f"{k} {v:.3f}" for k, v in list(r["by_call_per_request"].items())[:6])
                lines.append(f"| {r['server']} | {r['requests']:,} | {r['syscalls_total']:,} | "
                             f"{r['syscalls_per_request']:.3f} | {by} |")
    g = results.get("generator_check")
    if g:
        lines += ["", "## Is the load generator the limit?", "", g["note"] + ".", "",
                  "| bench threads | requests/s | server CPU share | load CPU share |",
                  "|---:|---:|---:|---:|"]
        for r in g["runs"]:
            lines.append(f"| {r['threads']} | {r['requests_per_s'] or 0:,.0f} | "
                         f"{r['server_cpu_share']} | {r['load_cpu_share']} |")
    return "\n".join(lines)
