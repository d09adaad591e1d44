"""
A fixed CPU budget for one process, through the cgroup CPU controller.

With two cores, one load generator saturates its core before a fast echo
server saturates the other, and then every server looks alike in
requests/s. Capping the server at a fraction of its core (the same fraction
for each server compared) makes the server the bottleneck again, so
requests/s measures what the server does with the CPU it is given.

Uses cgroup v2 (cpu.max) where the unified hierarchy has the cpu controller,
otherwise cgroup v1 (cpu.cfs_quota_us). Needs root; CpuCap.unavailable()
says why a cap cannot be had, in words for the report.
"""

import os

V2_ROOT = "/sys/fs/cgroup"
V1_ROOT = "/sys/fs/cgroup/cpu"
# A short period keeps the throttling fine-grained: the server runs and
# stalls in slices of a few milliseconds instead of tenths of a second.
PERIOD_US = 10000


def _v2_root():
    for root in (V2_ROOT, V2_ROOT + "/unified"):
        try:
            with open(os.path.join(root, "cgroup.controllers")) as f:
                if "cpu" in f.read().split():
                    return root
        except OSError:
            pass
    return None


class CpuCap:
    """`with CpuCap(0.4) as cap: cap.add(pid)` holds pid to 40% of one core."""

    def __init__(self, share, name="sockserv-bench-cap"):
        self.share = share
        self.name = f"{name}-{os.getpid()}"
        self.path = None
        self.v2 = False

    @staticmethod
    def unavailable():
        if os.geteuid() != 0:
            return "needs root to make a cgroup"
        if _v2_root() is None and not os.path.isfile(os.path.join(V1_ROOT, "cpu.cfs_quota_us")):
            return "no cgroup CPU controller is mounted"
        return None

    def __enter__(self):
        try:
            return self._make()
        except OSError:
            self.__exit__()  # No half-made group left behind.
            raise

    def _make(self):
        quota = max(1000, int(PERIOD_US * self.share))
        root = _v2_root()
        if root is not None:
            self.v2 = True
            # The controller must be enabled for the children of the root.
            with open(os.path.join(root, "cgroup.subtree_control"), "w") as f:
                f.write("+cpu")
            self.path = os.path.join(root, self.name)
            os.makedirs(self.path, exist_ok=True)
            with open(os.path.join(self.path, "cpu.max"), "w") as f:
                f.write(f"{quota} {PERIOD_US}")
        else:
            self.path = os.path.join(V1_ROOT, self.name)
            os.makedirs(self.path, exist_ok=True)
            with open(os.path.join(self.path, "cpu.cfs_period_us"), "w") as f:
                f.write(str(PERIOD_US))
            with open(os.path.join(self.path, "cpu.cfs_quota_us"), "w") as f:
                f.write(str(quota))
        return self

    def add(self, pid):
        """Moves every thread of pid into the capped group."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def throttled_s(self):
        """Seconds the group has spent throttled so far."""
        try:
            with open(os.path.join(self.path, "cpu.stat")) as f:
                for line in f:
                    key, value = line.split()
                    if key == "throttled_usec":
                        return int(value) / 1e6
                    if key == "throttled_time":  # v1, nanoseconds
                        return int(value) / 1e9
        except (OSError, ValueError):
            pass
        return None

    def __exit__(self, *exc):
        # A group can be removed only once empty: its servers have exited.
        if self.path:
            try:
                os.rmdir(self.path)
            except OSError:
                pass
        return False
