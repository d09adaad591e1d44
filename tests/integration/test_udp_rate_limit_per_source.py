"""
The reflection defence: each source address has a token bucket (--udp-rate
RATE/BURST, default 100/200), so a flood from one address, spoofed or not,
is answered at most BURST + RATE x elapsed times, while every other address
is still served in full. The bucket is per address, so changing the source
port does not refill it. `--udp-rate off` answers everything.
"""

import time

import pytest

from harness import MODELS
from udp_helpers import CLIENT_RCVBUF, drain, recv_datagram, start_udp, udp_addr, udp_socket

RATE, BURST = 100, 200  # The defaults.
SLACK = 3  # Clock granularity of the token refill.

# fork forks per datagram: too slow to keep ahead of a flood, so the socket
# buffer rather than the bucket would decide. select and poll share epoll's
# loop; the blocking models share the iterative and thread one.
FLOOD_MODELS = [m for m in MODELS if m in ("iterative", "thread", "epoll", "uring")]


def send_paced(sock, addr, count, prefix, chunk=25, timeout=5.0):
    """Sends count datagrams chunk at a time, waiting for each chunk's
    answers, so no socket buffer overflows; returns the answers."""
    answers = []
    for first in range(0, count, chunk):
        n = min(chunk, count - first)
        for i in range(first, first + n):
            sock.sendto(b"%s %d" % (prefix, i), addr)
        for _ in range(n):
            answers.append(recv_datagram(
                sock, timeout, f"answer {len(answers) + 1} of {count} from {prefix!r}"))
    return answers


@pytest.mark.parametrize("model", FLOOD_MODELS)
def test_flood_from_one_address_is_capped_while_another_is_served(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/echo", model=model)
    addr = udp_addr(server, "echo")
    with udp_socket(bind=("127.0.0.1", 0), rcvbuf=CLIENT_RCVBUF) as flooder, \
            udp_socket(bind=("127.0.0.1", 0), rcvbuf=CLIENT_RCVBUF) as same_address, \
            udp_socket(bind=("127.0.0.2", 0)) as other:
        start = time.monotonic()
        for i in range(2000):
            flooder.sendto(b"flood %d" % i, addr)
        flood_answers, _ = drain(flooder, quiet=0.15)
        # A new port on the flooding address finds the same empty bucket.
        for i in range(200):
            same_address.sendto(b"new port %d" % i, addr)
        port_answers, _ = drain(same_address, quiet=0.15)
        elapsed = time.monotonic() - start
        # Meanwhile another address gets its whole burst's worth.
        other_answers = send_paced(other, addr, 150, b"bystander")
    answered = len(flood_answers) + len(port_answers)
    bound = BURST + RATE * elapsed + SLACK
    assert answered <= bound, (
        f"{model}: 127.0.0.1 got {answered} answers ({len(flood_answers)} to the flood, "
        f"{len(port_answers)} from a second port) in {elapsed:.2f}s; the bucket allows {bound:.0f}")
    assert len(flood_answers) >= BURST * 3 // 4, (
        f"{model}: only {len(flood_answers)} of the flood's first {BURST} (the burst) "
        "were answered")
    # Sorted: the thread model may answer two datagrams out of order.
    assert sorted(other_answers) == sorted(b"bystander %d" % i for i in range(150))


@pytest.mark.parametrize("model", ["iterative", "epoll"])
def test_rate_off_answers_every_datagram(servers, model):
    server = start_udp(servers, "udp://127.0.0.1:0/echo", model=model,
                       options=["--udp-rate", "off"])
    with udp_socket(rcvbuf=CLIENT_RCVBUF) as s:
        answers = send_paced(s, udp_addr(server, "echo"), 600, b"unlimited", chunk=50)
    assert sorted(answers) == sorted(b"unlimited %d" % i for i in range(600))


@pytest.mark.parametrize("rate, allowed", [("5/5", 5), ("20", 40)],
                         ids=["5-burst-5", "20-burst-40"])
def test_rate_and_burst_limit_a_quick_series(servers, rate, allowed):
    # RATE alone bursts twice the rate.
    server = start_udp(servers, "udp://127.0.0.1:0/echo", options=["--udp-rate", rate])
    per_second = int(rate.split("/")[0])
    with udp_socket(rcvbuf=CLIENT_RCVBUF) as s:
        start = time.monotonic()
        for i in range(allowed * 4):
            s.sendto(b"quick %d" % i, udp_addr(server, "echo"))
        answers, _ = drain(s, quiet=0.3)
        elapsed = time.monotonic() - start
    assert allowed <= len(answers) <= allowed + per_second * elapsed + 1, (
        f"--udp-rate {rate}: {len(answers)} of {allowed * 4} quick datagrams answered "
        f"in {elapsed:.2f}s")
    assert sorted(answers[:allowed]) == sorted(b"quick %d" % i for i in range(allowed))
