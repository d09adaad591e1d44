"""
Under --model uring, chargen is paced by its reader: while a client reads
slowly, the server submits a new send only when the previous one has
drained, so its memory (VmRSS) stays flat and the stream stays exact.
"""

import time

from harness import CHARGEN_LINE, CLOCK_TICKS, chargen_stream, connect, cpu_ticks, recv_exactly

READ_FOR = 2.0
CHUNK = 4096
INTERVAL = 0.02  # About 200 KB/s: far slower than the server can generate.
MAX_GROWTH = 8 * 1024 * 1024
MAX_TICKS_FRACTION = 0.5  # Of the reading time: pacing is not a busy loop.


def vm_rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def test_uring_chargen_to_a_slow_reader_keeps_memory_flat(servers):
    server = servers.start("tcp://127.0.0.1:0/chargen", model="uring", options=["-q"])
    with connect(server.addr("chargen")) as c:
        received = bytearray(recv_exactly(c, 2 * (CHARGEN_LINE + 2)))
        time.sleep(0.1)  # The socket buffers fill first.
        rss_start = vm_rss_bytes(server.pid)
        ticks_start = cpu_ticks(server.pid)
        rss_peak = rss_start
        start = time.monotonic()
        while time.monotonic() - start < READ_FOR:
            received += recv_exactly(c, CHUNK)
            rss_peak = max(rss_peak, vm_rss_bytes(server.pid))
            time.sleep(INTERVAL)
        elapsed = time.monotonic() - start
        ticks = cpu_ticks(server.pid) - ticks_start
    growth = rss_peak - rss_start
    assert growth < MAX_GROWTH, (
        f"server memory grew by {growth} bytes (from {rss_start}) while a client read "
        f"{len(received)} bytes of chargen in {elapsed:.1f}s\n{server.describe()}")
    assert bytes(received) == chargen_stream(len(received)), "the stream departs from RFC 864"
    limit = MAX_TICKS_FRACTION * elapsed * CLOCK_TICKS
    assert ticks < limit, f"{ticks} ticks of CPU in {elapsed:.1f}s for one slow chargen reader"

