"""
--max-queue bounds what one connection may hold, whatever the model: output
queued, output handed to a send still in flight, and input held while the
connection is paused all count against it. Many clients that send into echo
and never read cost the server about clients x --max-queue, not what they
sent: the rest waits in the kernel's socket buffers.
"""

import os
import selectors
import socket
import time

import pytest

from harness import connect, stream_through

CLIENTS = 50
MAX_QUEUE = 64 * 1024
SEND_EACH = 4 * 1024 * 1024
# What the server may grow by beyond clients x --max-queue: malloc's slack and
# io_uring's provided-buffer ring (8 MiB), touched as receives use it.
ALLOWANCE = 12 * 1024 * 1024
FILL_FOR = 6.0  # Seconds the clients keep pushing.
CHUNK = 64 * 1024


def vm_rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def push_until_stalled(socks, pid):
    """Sends up to SEND_EACH into every socket, never reading, until every
    one refuses more or FILL_FOR runs out. Returns (bytes sent, peak RSS)."""
    sent = {s: 0 for s in socks}
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_WRITE)
    chunk = os.urandom(CHUNK)
    peak = vm_rss_bytes(pid)
    deadline = time.monotonic() + FILL_FOR
    try:
        while time.monotonic() < deadline and sel.get_map():
            for key, _ in sel.select(timeout=0.2):
                s = key.fileobj
                try:
                    sent[s] += s.send(chunk[:SEND_EACH - sent[s]])
                except BlockingIOError:
                    continue
                if sent[s] >= SEND_EACH:
                    sel.unregister(s)
            peak = max(peak, vm_rss_bytes(pid))
    finally:
        sel.close()
    # The server may still be taking what the kernel already holds.
    settle = time.monotonic() + 1.0
    while time.monotonic() < settle:
        peak = max(peak, vm_rss_bytes(pid))
        time.sleep(0.05)
    return sum(sent.values()), peak


@pytest.fixture
def no_free_quarantine(monkeypatch):
    """Under AddressSanitizer (make test SANITIZE=1) freed memory waits in a
    quarantine of up to 256 MiB before reuse, so RSS would measure the
    quarantine, not what the server holds; an empty quarantine keeps the
    bound meaningful there too. Other builds ignore the variable."""
    options = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS", f"{options}:quarantine_size_mb=0".lstrip(":"))


@pytest.mark.parametrize("model", ["epoll", "uring"])
def test_clients_that_send_without_reading_cost_at_most_their_max_queue(servers, model,
                                                                         no_free_quarantine):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model,
                           options=["-q", "--max-queue", str(MAX_QUEUE)])
    addr = server.addr("echo")
    # One full stream first, so memory every run touches anyway (the receive
    # ring, malloc's arenas) is in the baseline.
    with connect(addr) as c:
        warm = os.urandom(16 * 1024 * 1024)
        assert stream_through(c, warm) == warm
    socks = [connect(addr) for _ in range(CLIENTS)]
    try:
        time.sleep(0.2)
        baseline = vm_rss_bytes(server.pid)
        sent, peak = push_until_stalled(socks, server.pid)
    finally:
        for s in socks:
            s.close()
    growth = peak - baseline
    bound = CLIENTS * MAX_QUEUE + ALLOWANCE
    assert growth <= bound, (
        f"{model}: server grew by {growth / 2**20:.1f} MiB (bound {bound / 2**20:.1f} MiB) "
        f"while {CLIENTS} clients sent {sent / 2**20:.1f} MiB without reading, "
        f"--max-queue {MAX_QUEUE}\n{server.describe()}")
