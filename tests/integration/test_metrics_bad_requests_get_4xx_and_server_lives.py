"""
The metrics service answers one thing, GET or HEAD of /metrics; anything
else gets the 4xx (or 505) that says why, and the connection closes. The
server goes on serving, under every model.
"""

import socket
import time

import pytest

from harness import IO_TIMEOUT, MODELS, connect, recv_all
from metrics_helpers import CONTENT_TYPE, http_exchange, scrape

BAD_REQUESTS = [
    ("garbage", b"\x16\x03\x01 this is not HTTP\r\n\r\n", 400),
    ("no Host", b"GET /metrics HTTP/1.1\r\n\r\n", 400),
    ("wrong path", b"GET /metric HTTP/1.1\r\nHost: t\r\n\r\n", 404),
    ("wrong method", b"POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi", 405),
    ("over-long header",
     b"GET /metrics HTTP/1.1\r\nHost: t\r\nX-Long: " + b"a" * 10000 + b"\r\n\r\n", 431),
    ("wrong version", b"GET /metrics HTTP/3.0\r\nHost: t\r\n\r\n", 505),
]


@pytest.mark.parametrize("model", MODELS)
def test_bad_requests_get_the_right_status_and_the_server_lives(servers, model):
    server = servers.start("tcp://127.0.0.1:0/metrics", model=model)
    addr = server.addr("metrics")
    for what, request, status in BAD_REQUESTS:
        got, head, body = http_exchange(addr, request)
        assert got == status, f"{what}: {head!r}"
        assert b"Connection: close" in head, head
        if status == 405:
            assert b"Allow: GET, HEAD" in head, head
        # The server still answers a good request after each bad one.
        scrape(addr)
    assert server.alive(), server.describe()


def test_head_answers_without_a_body(servers):
    server = servers.start("tcp://127.0.0.1:0/metrics", model="epoll")
    status, head, body = http_exchange(server.addr("metrics"),
                                       b"HEAD /metrics HTTP/1.0\r\n\r\n")
    assert status == 200 and CONTENT_TYPE in head and body == b"", (head, body)
    length = [h for h in head.split(b"\r\n") if h.startswith(b"Content-Length: ")]
    assert length and int(length[0].split(b": ")[1]) > 0, head


def test_a_refused_client_that_keeps_its_side_open_is_closed_soon(servers):
    """After a refusal the server reads and drops what still comes, so its
    close cannot reset the answer away, and closes within a second or so
    even if the client never does."""
    server = servers.start("tcp://127.0.0.1:0/metrics", model="epoll")
    with connect(server.addr("metrics")) as sock:
        start = time.monotonic()
        sock.sendall(b"GET /nothing HTTP/1.1\r\nHost: t\r\n\r\nmore bytes after it")
        data = recv_all(sock, IO_TIMEOUT)
        elapsed = time.monotonic() - start
    assert data.startswith(b"HTTP/1.1 404 Not Found\r\n"), data[:200]
    assert elapsed < 3.0, f"closed after {elapsed:.1f}s"


def test_a_request_cut_short_gets_no_answer(servers):
    server = servers.start("tcp://127.0.0.1:0/metrics", model="epoll")
    with connect(server.addr("metrics")) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost:")
        sock.shutdown(socket.SHUT_WR)
        assert recv_all(sock) == b""
    scrape(server.addr("metrics"))
