"""
The slow-client experiment in small: twenty clients write "Hello world N"
a byte at a time. Each connection sends its own number, every reply is
checked, and a request's latency covers the whole dribbled message.
"""

import json
import socket
import threading

import pytest

from harness import CONCURRENT_MODELS, run_sockserv

CLIENTS = 20
PAUSE_S = 0.01


@pytest.mark.parametrize("model", CONCURRENT_MODELS)
def test_dribbling_clients_are_all_answered(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["-q"])
    host, port = server.addr("echo")
    rc, out, err = run_sockserv(
        ["bench", "-c", str(CLIENTS), "-d", "800ms", "--dribble", f"{int(PAUSE_S * 1000)}ms",
         "-m", "Hello world {n}", "--json", f"tcp://{host}:{port}"], timeout=10)
    assert rc == 0, err
    result = json.loads(out)
    assert result["requests"] >= CLIENTS, result
    assert result["requests_failed"] == 0, result["errors"]
    assert result["dribble_s"] == PAUSE_S
    # "Hello world 1\n" is 14 bytes: 13 pauses between the first and last.
    assert result["latency_us"]["min"] >= 13 * PAUSE_S * 1e6 * 0.95


def test_each_connection_says_its_own_number():
    """An echo that records the first line of every connection."""
    lines = []
    lock = threading.Lock()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def serve(conn):
        with conn:
            first = b""
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                if b"\n" not in first:
                    first += data
                    if b"\n" in first:
                        with lock:
                            lines.append(first.split(b"\n")[0].decode())
                conn.sendall(data)

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        rc, out, err = run_sockserv(
            ["bench", "-c", str(CLIENTS), "-n", str(CLIENTS), "--dribble", "2ms", "-m",
             "Hello world {n}", "--json", f"tcp://127.0.0.1:{listener.getsockname()[1]}"],
            timeout=10)
    finally:
        listener.close()
    assert rc == 0, err
    assert json.loads(out)["requests"] == CLIENTS
    assert sorted(lines) == sorted(f"Hello world {n}" for n in range(1, CLIENTS + 1))
