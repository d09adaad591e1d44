"""Slow clients: 20 TCP clients each write "Hello world N" to echo one byte
at a time; a model that serves one client at a time lets the rest time out."""

from bench.lib.durations import seconds
from bench.lib.loadgen import errors_text, failed, summary_line
from bench.lib.report import fmt_us, log, table

FULL = {"clients": 20, "pause": "100ms", "duration": "8s", "timeout": "5s"}
SMOKE = {"clients": 20, "pause": "5ms", "duration": "400ms", "timeout": "1s"}


def run(testbed, models, cfg):
    runs = {}
    for model in models:
        try:
            with testbed.server(model, "tcp://127.0.0.1:0/echo") as server:
                record = testbed.bench(server.url, [
                    "-c", str(cfg["clients"]), "-d", cfg["duration"], "--dribble", cfg["pause"],
                    "-m", "Hello world {n}", "--timeout", cfg["timeout"]],
                    limit=seconds(cfg["duration"]) + seconds(cfg["timeout"]) + 30)
        except RuntimeError as e:
            record = failed(f"server did not start: {e}")
        runs[model] = record
        log(f"slow   {model:9} {summary_line(record, fmt_us)}")
    return {"settings": cfg, "runs": runs}


def row(model, rec):
    if "result" not in rec:
        return [model, f"failed: {rec['reason']}"]
    r = rec["result"]
    lat = r["latency_us"] or {}
    return [model, rec["status"], r["requests"], fmt_us(lat.get("p50")), fmt_us(lat.get("max")),
            errors_text(r)]


def markdown(exp):
    s = exp["settings"]
    return [
        "## Slow clients",
        "",
        f"{s['clients']} TCP clients each write \"Hello world N\" to echo a byte per "
        f"{s['pause']}, for {s['duration']} (request timeout {s['timeout']}).",
        "",
        *table(["model", "status", "requests answered>", "p50>", "max>", "errors"],
               [row(model, rec) for model, rec in exp["runs"].items()]),
        "",
    ]
