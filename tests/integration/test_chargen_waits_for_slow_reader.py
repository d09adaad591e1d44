"""
Chargen sends only as fast as the client reads: a client that stops reading
costs the server no CPU and no memory, and when it reads again the stream
continues exactly where it stopped.
"""

import time

import pytest

from harness import (MODELS, chargen_stream, connect, group_cpu_ticks, group_rss_bytes,
                     recv_exactly)

STALL = 0.6
MAX_TICKS = 5
MAX_GROWTH = 8 * 1024 * 1024


@pytest.mark.parametrize("model", MODELS)
def test_stalled_chargen_reader_costs_nothing_and_loses_nothing(servers, model):
    server = servers.start("tcp://127.0.0.1:0/chargen", model=model)
    with connect(server.addr("chargen")) as c:
        head = recv_exactly(c, 7400)
        time.sleep(0.1)  # Let the socket buffers fill up.
        ticks_before = group_cpu_ticks(server.pid)
        rss_before = group_rss_bytes(server.pid)
        time.sleep(STALL)
        ticks = group_cpu_ticks(server.pid) - ticks_before
        growth = group_rss_bytes(server.pid) - rss_before
        tail = recv_exactly(c, 2 * 1024 * 1024, timeout=10)
    stream = head + tail
    expected = chargen_stream(len(stream))
    assert stream == expected, "the stream after the stall does not continue the pattern"
    assert ticks < MAX_TICKS, f"{ticks} ticks of CPU in {STALL}s while the client did not read"
    assert growth < MAX_GROWTH, f"server memory grew by {growth} bytes while the client did not read"
