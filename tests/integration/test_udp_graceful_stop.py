"""
Graceful stop with a UDP answer still due: SIGTERM arrives 0.2 s into an
upper request's 1 s delay, and under every model the answer still comes at
its time, the server then exits 0, and a datagram sent after the signal is
no longer served. The models are stopped side by side, so the whole file
takes about one delay.
"""

import signal
import time

import pytest

from harness import MODELS, ServerPool
from udp_helpers import collect_replies, datagrams_within, start_udp, udp_addr, udp_socket

DELAY = 1.0
SIGNAL_AFTER = 0.2
LATE_AFTER = 0.3  # After the signal; the pending answer is due 0.8 s after it.


@pytest.fixture(scope="module")
def stops():
    """{model: what happened}, the same scenario run on every model at once."""
    results = {m: {} for m in MODELS}
    socks = []
    with ServerPool() as pool:
        try:
            servers = {m: start_udp(pool, "udp://127.0.0.1:0/upper", "udp://127.0.0.1:0/echo",
                                    model=m, options=["--delay", f"{DELAY}s"])
                       for m in MODELS}
            asking = {}
            for m, server in servers.items():
                s = udp_socket()
                socks.append(s)
                asking[s] = m
                results[m]["sent"] = time.monotonic()
                s.sendto(b"pending answer\n", udp_addr(server, "upper"))
            time.sleep(SIGNAL_AFTER)
            for server in servers.values():
                server.signal(signal.SIGTERM)
            # Nothing reports that the stop began; give the signal time to
            # land, still well before the pending answer is due.
            time.sleep(LATE_AFTER)
            late = {}
            for m, server in servers.items():
                s = udp_socket()
                socks.append(s)
                late[m] = s
                s.sendto(b"too late", udp_addr(server, "echo"))
            replies = collect_replies(list(asking), len(asking), timeout=DELAY + 4.0)
            for s, m in asking.items():
                results[m]["reply"] = replies.get(s)
            for m, s in late.items():
                results[m]["late"] = datagrams_within(s, 0.01)
            deadline = time.monotonic() + 6.0
            for m, server in servers.items():
                results[m]["status"] = server.wait_exit(max(0.1, deadline - time.monotonic()))
                results[m]["describe"] = server.describe()
        finally:
            for s in socks:
                s.close()
    return results


@pytest.mark.parametrize("model", MODELS)
def test_pending_answer_is_still_sent_after_sigterm(stops, model):
    r = stops[model]
    assert r["reply"] is not None, (
        f"{model}: the answer due after SIGTERM never came\n{r['describe']}")
    data, at = r["reply"]
    assert data == b"PENDING ANSWER\n"
    assert at - r["sent"] >= DELAY * 0.9, (
        f"{model}: answered {at - r['sent']:.2f}s after the request, before its delay")


@pytest.mark.parametrize("model", MODELS)
def test_server_exits_0_once_the_answer_is_sent(stops, model):
    r = stops[model]
    assert r["status"] == 0, f"{model}: exit status {r['status']}\n{r['describe']}"


@pytest.mark.parametrize("model", MODELS)
def test_datagram_after_sigterm_is_not_served(stops, model):
    r = stops[model]
    assert r["late"] == [], f"{model}: a datagram sent after SIGTERM was answered: {r['late']!r}"
