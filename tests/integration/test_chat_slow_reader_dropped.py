"""
A member who stops reading costs nobody else anything: once the lines
waiting for them pass --max-queue they are dropped, their room hears
"left ... (too slow: output queue full)", and throughout the flood the
others receive each message promptly.
"""

import time

import pytest

from chat_helpers import CHAT_SETUPS, drain, join_as, start_chat

MAX_QUEUE = 64 * 1024
LINE = 1000  # Bytes of text per flood message.
# Far more than the queue plus every socket buffer on the way (the kernel's
# send buffer grows to tcp_wmem's 4 MiB), so the stalled reader must be
# dropped before the flood ends.
MAX_MESSAGES = 8000
PROMPT = 1.0  # Seconds within which a live member must get each message.


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_stalled_reader_is_dropped_and_others_stay_prompt(servers, setup):
    # The talker floods on purpose, far past --chat-rate, which is off here.
    _, addr = start_chat(servers, setup, options=["--max-queue", "64K", "--chat-rate", "off"])
    talker = join_as(addr, "talker")
    live = join_as(addr, "live")
    # A small receive window, so the kernel holds little for the stalled
    # reader and the server's queue is what fills.
    stalled = join_as(addr, "stalled", rcvbuf=4096)
    drain(talker, live, stalled)

    dropped_after = None
    slowest = 0.0
    for i in range(MAX_MESSAGES):
        text = f"{i:05d} " + "x" * (LINE - 6)
        sent_at = time.monotonic()
        talker.send_line(text)
        line, skipped = live.expect(f"talker: {text}", timeout=5)
        slowest = max(slowest, time.monotonic() - sent_at)
        assert slowest < PROMPT, \
            f"message {i} took {slowest:.3f}s to reach a live member while one member stalled"
        if skipped:
            assert skipped == [b"*** stalled left lobby (too slow: output queue full)"], skipped
            dropped_after = i
            break
    assert dropped_after is not None, \
        f"the room never heard that a member who read nothing left (too slow) after " \
        f"{MAX_MESSAGES} messages of {LINE} bytes with --max-queue {MAX_QUEUE}"
    talker.expect_next("*** stalled left lobby (too slow: output queue full)")

    # The stalled client finds the connection closed behind what it had.
    stalled.sock.settimeout(5)
    received = bytearray()
    while True:
        try:
            chunk = stalled.sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    # What the kernel already held arrives (its last line may be cut
    # short); what the queue held does not.
    assert received.startswith(b"talker: 00000 "), bytes(received[:100])
    assert len(received) < dropped_after * (LINE + 10), "it was sent everything anyway"

    # The room goes on; the nick is free again.
    talker.send_line("after the drop")
    live.expect_next("talker: after the drop")
    assert live.command("/nick stalled") == b"*** you are now stalled"
