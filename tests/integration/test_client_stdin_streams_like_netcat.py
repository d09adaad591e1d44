"""
Without MESSAGE, `sockserv client` over TCP behaves like netcat: standard
input goes to the socket while the socket goes to standard output, at the
same time, so megabytes through echo come back byte-identical without
deadlock; end of input is a half-close, and the client ends when the
server closes.
"""

import hashlib
import os
import random
import signal
import socket
import subprocess
import threading
import time

import pytest

from harness import BINARY, first_difference

CLIENT_TIMEOUT = 60.0


def run_client(*args, input=b""):
    """Runs `sockserv client ARGS` to completion: (status, stdout, stderr)."""
    proc = subprocess.run([BINARY, "client", *args], input=input, capture_output=True,
                          timeout=CLIENT_TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def url(server, service):
    host, port = server.addr(service)
    return f"tcp://{host}:{port}/{service}"


def assert_identical(back, sent):
    offset = first_difference(back, sent)
    assert offset is None, (
        f"{len(back)} of {len(sent)} bytes came back; first difference at offset {offset}")


@pytest.mark.parametrize("verify", [False, True], ids=["plain", "verify"])
def test_megabytes_through_echo_come_back_identical(servers, verify):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-q"])
    payload = random.Random(4).randbytes(4 * 1024 * 1024)
    rc, out, err = run_client(url(server, "echo"), *(["--verify"] if verify else []),
                              input=payload)
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert_identical(out, payload)


def test_64mib_through_echo_without_deadlock(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-q"])
    payload = random.Random(64).randbytes(64 * 1024 * 1024)
    rc, out, err = run_client(url(server, "echo"), "--verify", input=payload)
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert len(out) == len(payload)
    assert hashlib.sha256(out).digest() == hashlib.sha256(payload).digest()


def test_lines_through_upper_come_back_uppercased(servers):
    server = servers.start("tcp://127.0.0.1:0/upper", options=["--delay", "1ms", "-q"])
    lines = b"".join(b"line %d of many\n" % i for i in range(200))
    rc, out, err = run_client(url(server, "upper"), "--verify", input=lines)
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == lines.upper()


def test_input_into_discard_all_arrives(servers):
    server = servers.start("tcp://127.0.0.1:0/discard", options=["-v"])
    payload = os.urandom(1024 * 1024)
    rc, out, err = run_client(url(server, "discard"), input=payload)
    assert (rc, out, err) == (0, b"", ""), f"exit {rc}, stderr {err!r}"
    server.wait_for_stderr(r"discard \(in 1048576 B")


def test_end_of_input_is_a_half_close():
    """The server answers only after it has seen end of stream, so the
    client must shut down its sending side and keep reading."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(10)
        port = listener.getsockname()[1]

        def answer_after_eof():
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(10)
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
                conn.sendall(b"got %d bytes\n" % len(data))
        server = threading.Thread(target=answer_after_eof, daemon=True)
        server.start()
        rc, out, err = run_client(f"tcp://127.0.0.1:{port}", input=b"x" * 100_000)
        server.join(timeout=10)
    assert (rc, err) == (0, ""), f"exit {rc}, stderr {err!r}"
    assert out == b"got 100000 bytes\n"


def test_client_ends_when_the_server_closes_even_with_input_open():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(10)
        port = listener.getsockname()[1]

        def greet_and_close():
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"bye\n")
        server = threading.Thread(target=greet_and_close, daemon=True)
        server.start()
        proc = subprocess.Popen([BINARY, "client", f"tcp://127.0.0.1:{port}"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            # Standard input stays open: only the server's close ends it.
            rc = proc.wait(timeout=5)
            out = proc.stdout.read()
            err = proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdin.close()
            proc.stdout.close()
            proc.stderr.close()
        server.join(timeout=5)
    assert (rc, err) == (0, b""), f"exit {rc}, stderr {err!r}"
    assert out == b"bye\n"


def test_chargen_streams_until_interrupted(servers):
    server = servers.start("tcp://127.0.0.1:0/chargen", options=["-q"])
    proc = subprocess.Popen([BINARY, "client", url(server, "chargen")], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = proc.stdout.read(100_000)
        assert len(first) == 100_000
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        proc.wait(timeout=5)
        assert time.monotonic() - started < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGINT
