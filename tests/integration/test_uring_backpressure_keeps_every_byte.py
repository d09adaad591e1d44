"""
Under --model uring, a client that sends a lot to echo without reading
makes the server pause that connection (its output queue is full). The
kernel may already have completed receives into the provided-buffer ring
when the pause happens; those bytes are held and handed on when the client
reads again. Whatever the timing, the client gets back exactly what it
sent, in order, and the server does not swallow the whole stream while
the client is not reading.
"""

import os
import socket
import threading
import time

from harness import IO_TIMEOUT, first_difference, recv_exactly

SIZE = 8 * 1024 * 1024
PAUSE = 1.0
# Small client buffers (set before connecting, so the kernel does not
# autotune them) make the server's own queue fill long before 8 MiB.
CLIENT_BUFFER = 64 * 1024


def test_uring_echo_paused_by_a_client_that_does_not_read_loses_nothing(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="uring", options=["-q"])
    payload = os.urandom(SIZE)  # Not periodic: a reordering cannot hide.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_BUFFER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CLIENT_BUFFER)
    sock.settimeout(IO_TIMEOUT)
    sock.connect(server.addr("echo"))
    sent = [0]
    errors = []

    def send():
        view = memoryview(payload)
        try:
            while sent[0] < SIZE:
                sent[0] += sock.send(view[sent[0]:sent[0] + 65536])
        except OSError as e:
            errors.append(e)

    # The sender blocks once every buffer is full; the socket timeout must
    # not end it while the reader deliberately waits.
    sock.settimeout(60)
    sender = threading.Thread(target=send, daemon=True)
    with sock:
        sender.start()
        time.sleep(PAUSE)
        sent_while_not_reading = sent[0]
        back = recv_exactly(sock, SIZE, timeout=60)
        sender.join(timeout=10)
        sock.shutdown(socket.SHUT_WR)
        rest = sock.recv(1)
    assert not errors, f"sending failed: {errors[0]!r}\n{server.describe()}"
    assert sent_while_not_reading < SIZE, (
        f"the server took all {SIZE} bytes while the client read nothing: no backpressure")
    at = first_difference(back, payload)
    assert at is None, f"the echo departs from what was sent at byte {at} of {SIZE}"
    assert rest == b"", f"bytes after the whole echo: {rest!r}"
    assert server.alive(), f"server died\n{server.describe()}"
    assert "too much input" not in server.stderr_text(), server.describe()
