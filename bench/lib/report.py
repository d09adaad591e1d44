"""Numbers as a report writes them, Markdown tables, and where results go."""

import json
import sys
import tempfile
from pathlib import Path

from .servers import REPO

RESULTS = REPO / "bench" / "results"


def log(text):
    """Progress for whoever watches the run (stderr, flushed at once)."""
    print(text, file=sys.stderr, flush=True)


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
    """The median of the values that are not None, or None if there are none."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def table(columns, rows):
    """A Markdown table as a list of lines. columns: headings, each ending in
    ">" to right-align the column (the ">" is not shown). rows: lists of
    cells, already text; a short row is a note that spans what it has."""
    heads = [c.rstrip(">") for c in columns]
    rules = ["---:" if c.endswith(">") else "---" for c in columns]
    lines = ["| " + " | ".join(heads) + " |", "|" + "|".join(rules) + "|"]
    for row in rows:
        cells = list(row) + [""] * (len(columns) - len(row))
        lines.append("|" + "".join(f" {c} |" if c != "" else " |" for c in cells))
    return lines


def output_dir(out, quick):
    """--out, else bench/results, except that --quick writes to a fresh
    temporary directory: smoke numbers never replace real ones."""
    if out:
        return Path(out)
    if quick:
        return Path(tempfile.mkdtemp(prefix="sockserv-bench-quick-"))
    return RESULTS


def write_results(name, results, markdown_text, out_dir=RESULTS):
    """NAME.json and NAME.md in out_dir; returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / f"{name}.json", "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    with open(out_dir / f"{name}.md", "w") as f:
        f.write(markdown_text.rstrip() + "\n")
    return out_dir / f"{name}.json", out_dir / f"{name}.md"
