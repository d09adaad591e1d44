"""Which cores a run uses: the server on the first core this process may use,
the load on the rest, so that neither takes time from the other. On one core
(or without taskset, or when asked not to pin) nothing is pinned."""

import os
import shutil


class CorePlan:
    """server: the server's cores; load: the load's; both empty when unpinned."""

    def __init__(self, pin=True):
        cores = sorted(os.sched_getaffinity(0))
        if not pin or len(cores) < 2 or not shutil.which("taskset"):
            self.server, self.load = [], []
        else:
            self.server, self.load = cores[:1], cores[1:]

    @property
    def pinned(self):
        return bool(self.server)

    @staticmethod
    def _text(cores):
        return ",".join(map(str, cores)) if cores else None

    @property
    def server_text(self):
        """The server's cores as taskset writes them ("0"), or None."""
        return self._text(self.server)

    @property
    def load_text(self):
        """The load's cores as taskset writes them ("1,2,3"), or None."""
        return self._text(self.load)

    def on_server_cores(self, argv):
        return self._on(self.server, argv)

    def on_load_cores(self, argv):
        return self._on(self.load, argv)

    def pin_this_process_to_load(self):
        """For a load process started by fork rather than through taskset."""
        if self.load:
            os.sched_setaffinity(0, self.load)

    @staticmethod
    def _on(cores, argv):
        return ["taskset", "-c", ",".join(map(str, cores)), *argv] if cores else list(argv)


# The plan of every script that does not choose one (run.py's --no-pin does).
DEFAULT = CorePlan()
