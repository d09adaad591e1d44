"""The UDP lengthy action: each of 20 clients sends one datagram to upper,
which answers only after --delay; every model must answer them all at once."""

from bench.lib.durations import seconds
from bench.lib.loadgen import errors_text, failed, summary_line
from bench.lib.report import fmt_us, log, table

FULL = {"clients": 20, "delay": "5s", "timeout": "30s"}
SMOKE = {"clients": 20, "delay": "200ms", "timeout": "3s"}


def run(testbed, models, cfg):
    runs = {}
    for model in models:
        try:
            with testbed.server(model, "udp://127.0.0.1:0/upper",
                                ["--delay", cfg["delay"]]) as server:
                record = testbed.bench(server.url, [
                    "-c", str(cfg["clients"]), "-n", str(cfg["clients"]), "--expect", "upper",
                    "-m", "lengthy action {n}", "--timeout", cfg["timeout"]],
                    limit=seconds(cfg["timeout"]) + 30)
        except RuntimeError as e:
            record = failed(f"server did not start: {e}")
        runs[model] = record
        log(f"udp    {model:9} {summary_line(record, fmt_us)}")
    return {"settings": cfg, "runs": runs}


def row(model, rec, clients):
    if "result" not in rec:
        return [model, f"failed: {rec['reason']}"]
    r = rec["result"]
    lat = r["latency_us"] or {}
    return [model, rec["status"], f"{r['requests']} of {clients}", fmt_us(lat.get("min")),
            fmt_us(lat.get("p50")), fmt_us(lat.get("max")), errors_text(r),
            f"{rec['wall_s']:.1f} s"]


def markdown(exp):
    s = exp["settings"]
    return [
        "## UDP lengthy action",
        "",
        f"{s['clients']} clients each send one datagram to upper (delay {s['delay']}) "
        f"and wait up to {s['timeout']} for the answer.",
        "",
        *table(["model", "status", "answered>", "first answer>", "median>", "last answer>",
                "errors", "run took>"],
               [row(model, rec, s["clients"]) for model, rec in exp["runs"].items()]),
        "",
    ]
