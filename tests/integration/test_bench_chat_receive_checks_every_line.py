"""
`sockserv bench --chat-receive` joins a chat room with every connection,
says "joined" once every member is welcomed, and checks each line a sender
numbered ("M PHASE SENDER SEQ SENT_NS ...") on every member: delivered
exactly once, in the sender's order, with no gap. bench/chat_fanout.py
receives its fan-out this way; its senders are Python.
"""

import json
import mmap
import os
import selectors
import signal
import struct
import subprocess
import tempfile
import time

import pytest

from harness import BINARY, IO_TIMEOUT, connect, recv_until, run_sockserv, wait_until

LIMIT = 30.0  # Seconds any one bench process here may live.
RECEIVERS = 20


def start_receivers(url, progress_path, count=RECEIVERS):
    return subprocess.Popen([BINARY, "bench", "--chat-receive", "--json", "-c", str(count),
                             "--progress-file", progress_path, "-d", "20s", url],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def read_line(proc, timeout):
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(timeout), f"no line from bench within {timeout}s"
    return proc.stdout.readline().decode()


def finish(proc):
    """Ends proc as Ctrl-C does: (exit status, its report, stderr)."""
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("bench --chat-receive did not end after SIGINT")
    return proc.returncode, json.loads(out), err.decode()


def delivered(path):
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 8, access=mmap.ACCESS_READ) as m:
        return struct.unpack_from("=Q", m, 0)[0]


def send_lines(addr, phase, seqs, until):
    """One sender (number 0) joins, sends the lines numbered seqs, and stays
    in the room until until() holds: a client that closes with unread
    notices resets its connection, and the server may then drop lines it
    had not yet read."""
    with connect(addr) as s:
        recv_until(s, b"*** welcome")
        for seq in seqs:
            s.sendall(b"M %d 0 %d %d %s\n" % (phase, seq, time.monotonic_ns(), b"x" * 20))
        return wait_until(until, IO_TIMEOUT)


def receive_around(servers, model, phase, seqs, want):
    """Runs RECEIVERS members while one sender sends seqs; returns the report."""
    # The sender bursts far past a typist's pace on purpose: lift chat's
    # per-sender flood limit.
    server = servers.start("tcp://127.0.0.1:0/chat", model=model,
                           options=["-q", "--chat-rate", "off"])
    host, port = server.addr("chat")
    with tempfile.TemporaryDirectory() as tmp:
        progress = os.path.join(tmp, "delivered")
        proc = start_receivers(f"tcp://{host}:{port}/chat", progress)
        try:
            joined = json.loads(read_line(proc, IO_TIMEOUT * 2))
            assert joined == {"event": "joined", "joined": RECEIVERS, "failed": 0,
                              "after_s": joined["after_s"]}
            assert send_lines((host, port), phase, seqs, lambda: delivered(progress) >= want), \
                f"{delivered(progress)} of {want} lines delivered"
        finally:
            rc, report, err = finish(proc)
        assert rc == 0, err
        assert delivered(progress) == report["requests"]
    return report


@pytest.mark.parametrize("model", ["epoll", "poll", "uring", "thread"])
def test_every_member_gets_every_line_once_and_in_order(servers, model):
    report = receive_around(servers, model, 0, range(100), 100 * RECEIVERS)
    chat = report["chat"]
    assert chat["welcomed"] == RECEIVERS and chat["first_anomaly"] is None
    assert chat["unchecked_lines"] == 0
    [phase] = chat["phases"]
    assert phase["phase"] == 0
    assert phase["deliveries"] == 100 * RECEIVERS == report["requests"]
    assert phase["gaps"] == 0 and phase["duplicates_or_reordered"] == 0
    assert phase["receivers_complete"] == RECEIVERS
    assert phase["senders"] == [{"sender": 0, "lines_seen": 100, "next_due_sum": 100 * RECEIVERS}]
    assert phase["latency_us"]["max"] < LIMIT * 1e6
    assert phase["first_receiver_latency_us"]["p50"] <= phase["last_receiver_latency_us"]["p50"]


def test_a_line_the_sender_skipped_is_a_gap_on_every_member(servers):
    seqs = [s for s in range(10) if s != 4]
    report = receive_around(servers, "epoll", 2, seqs, 9 * RECEIVERS)
    [phase] = report["chat"]["phases"]
    assert phase["phase"] == 2 and phase["deliveries"] == 9 * RECEIVERS
    assert phase["gaps"] == RECEIVERS and phase["duplicates_or_reordered"] == 0
    assert "seq 5 skipped ahead (next due 4)" in report["chat"]["first_anomaly"]


def test_a_line_sent_twice_or_late_is_counted(servers):
    seqs = [0, 1, 2, 1, 3]
    report = receive_around(servers, "epoll", 1, seqs, 5 * RECEIVERS)
    [phase] = report["chat"]["phases"]
    assert phase["deliveries"] == 5 * RECEIVERS
    assert phase["gaps"] == 0 and phase["duplicates_or_reordered"] == RECEIVERS
    assert phase["receivers_complete"] == RECEIVERS
    assert "seq 1 again or late (next due 3)" in report["chat"]["first_anomaly"]


def test_chat_receive_ends_by_itself_with_a_summary(servers):
    server = servers.start("tcp://127.0.0.1:0/chat", model="epoll", options=["-q"])
    host, port = server.addr("chat")
    rc, out, err = run_sockserv(["bench", "--chat-receive", "-c", "10", "-d", "300ms",
                                 f"tcp://{host}:{port}/chat"], timeout=LIMIT)
    assert rc == 0, err
    assert out.splitlines()[0].startswith("joined       10 members (0 failed)"), out
    assert "chat         10 of 10 members welcomed" in out


@pytest.mark.parametrize("args,want", [
    (["--chat-receive", "udp://127.0.0.1:9"], "UDP"),
    (["--chat-receive", "-c", "4", "-t", "2", "tcp://127.0.0.1:9"], "one thread"),
    (["--chat-receive", "--hold", "tcp://127.0.0.1:9"], "no --hold"),
    (["--chat-receive", "-m", "hi", "tcp://127.0.0.1:9"], "only listens"),
    (["--chat-receive", "--hold-requests", "1", "tcp://127.0.0.1:9"], "only listens"),
    (["--progress-file", "/tmp/x", "tcp://127.0.0.1:9"], "needs --chat-receive"),
])
def test_chat_receive_refuses_what_cannot_work(args, want):
    rc, out, err = run_sockserv(["bench", *args])
    assert rc == 2, f"exit {rc}; stderr {err!r}"
    assert want in err and out == ""
