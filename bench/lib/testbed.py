"""Where an experiment runs: one sockserv binary and one core plan. A
testbed starts servers on the server cores and load on the load cores, so
an experiment module says only what it runs, not how."""

import resource
import subprocess

from .loadgen import run_bench
from .servers import MeasuredServer

START_TIMEOUT = 10.0


class Testbed:
    def __init__(self, sockserv, plan):
        self.sockserv = sockserv
        self.plan = plan

    def server(self, model, listener, options=()):
        """A `sockserv serve` on the server cores; use with `with`.
        RuntimeError when it does not start."""
        argv = [self.sockserv, "serve", "-q", "-m", model, *options, listener]
        return MeasuredServer(argv, self.plan, start_timeout=START_TIMEOUT)

    def bench(self, url, args, limit):
        """One `sockserv bench --json` on the load cores: a record with its status."""
        return run_bench(self.sockserv, url, args, limit, self.plan, cpu_key="cpu_s")

    def run_tool(self, argv, limit):
        """Runs another load generator on the load cores: (rc, stdout, stderr, CPU s)."""
        argv = self.plan.on_load_cores(argv)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=limit)
        except subprocess.TimeoutExpired:
            return None, "", f"still running after {limit:.0f}s", 0.0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return proc.returncode, proc.stdout, proc.stderr, cpu
