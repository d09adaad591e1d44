"""
Under --model uring, --max-conns bounds the clients served at once even
when they arrive in a burst: the multishot accept is cancelled at the
limit, and the rest wait in the listen backlog (not answered, not turned
away) until a slot frees. A multishot accept that runs on past the limit
serves everyone at once, and where the limit is the descriptor limit it
runs the process out of descriptors and turns clients away.
"""

import time

from harness import connect, recv_exactly, recv_for

MAX_CONNS = 10
BURST = 40


def test_uring_burst_beyond_max_conns_waits_in_the_backlog(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="uring",
                           options=["--max-conns", str(MAX_CONNS), "-q"])
    socks = [connect(server.addr("echo")) for _ in range(BURST)]
    try:
        for i, s in enumerate(socks):
            s.sendall(b"%02d" % i)
        time.sleep(0.3)
        served, dropped = [], []
        for i, s in enumerate(socks):
            data, eof = recv_for(s, 0.02)
            if data:
                served.append(i)
            elif eof:
                dropped.append(i)
        assert not dropped, f"clients {dropped} were closed instead of waiting"
        assert len(served) <= MAX_CONNS, (
            f"{len(served)} of {BURST} clients were served at once with --max-conns {MAX_CONNS}")
        # Those waiting are served once the first ones leave.
        for i in served:
            socks[i].close()
        for i, s in enumerate(socks):
            if i not in served:
                assert recv_exactly(s, 2, timeout=5.0) == b"%02d" % i
                s.close()
    finally:
        for s in socks:
            s.close()
