"""
Text is UTF-8. Valid UTF-8 (accents, CJK, emoji, TAB) arrives byte for
byte; each byte that is not valid UTF-8 arrives as U+FFFD; control
characters (C0 but TAB, DEL, C1) are removed, so nobody can drive another
person's terminal.
"""

import re

import pytest

from chat_helpers import CHAT_SETUPS, assert_silent, drain, join_as, start_chat

REPLACEMENT = "\ufffd".encode()


@pytest.mark.parametrize("setup", CHAT_SETUPS)
def test_utf8_passes_invalid_bytes_replaced_controls_removed(servers, setup):
    _, addr = start_chat(servers, setup)
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    drain(ann, bob)

    cases = [
        # Accents, CJK, emoji (4 bytes, and a ZWJ sequence), a TAB.
        ("caf\u00e9 \u4e16\u754c \U0001F600 \U0001F469\u200d\U0001F4BB\tend".encode(),
         "caf\u00e9 \u4e16\u754c \U0001F600 \U0001F469\u200d\U0001F4BB\tend".encode()),
        # A stray Latin-1 byte, a lone continuation byte, a truncated
        # sequence, an overlong '/', a UTF-16 surrogate, past U+10FFFF.
        (b"latin1 \xe9!", b"latin1 " + REPLACEMENT + b"!"),
        (b"lone \x80 cont", b"lone " + REPLACEMENT + b" cont"),
        (b"cut \xe4\xb8 short", b"cut " + REPLACEMENT * 2 + b" short"),
        (b"overlong \xc0\xaf", b"overlong " + REPLACEMENT * 2),
        (b"surrogate \xed\xa0\x80", b"surrogate " + REPLACEMENT * 3),
        (b"too big \xf4\x90\x80\x80", b"too big " + REPLACEMENT * 4),
        # ESC (a colour escape loses its ESC), BEL, backspace, DEL, NUL, a
        # C1 control (CSI, U+009B), a CR inside the line.
        (b"\x1b[31mred\x1b[0m", b"[31mred[0m"),
        (b"bell\x07 back\x08 del\x7f nul\x00 c1\xc2\x9b cr\rend", b"bell back del nul c1 crend"),
    ]
    for sent, expected in cases:
        bob.send_line(sent)
        ann.expect_next(b"bob: " + expected)

    # /me and /msg text and quit reasons go through the same filter.
    bob.send_line(b"/me \x1b]0;pwned\x07 \xf0\x9f\x8e\x89")
    ann.expect_next(b"* bob ]0;pwned \xf0\x9f\x8e\x89")
    bob.send_line(b"/msg ann \xff\xfe \xe6\x97\xa5")
    ann.expect_next(b"[private] bob: " + REPLACEMENT * 2 + b" \xe6\x97\xa5")
    # A line that is nothing but controls says nothing at all.
    bob.send_line(b"\x1b\x07\x00")
    assert_silent(bob, ann)


def assert_valid_utf8(line):
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError(f"the server sent invalid UTF-8: {line!r} ({e})") from None


def test_long_quit_reason_stays_valid_utf8(servers):
    _, addr = start_chat(servers, "epoll")
    ann = join_as(addr, "ann")
    bob = join_as(addr, "bob")
    drain(ann, bob)
    bob.send_line("/quit " + "\u00e9" * 100)
    bob.wait_eof()
    line, _ = ann.expect(re.compile(rb"^\*\*\* bob left lobby \(quit: .*\)$"))
    assert_valid_utf8(line.group(0))


def test_unknown_command_echo_stays_valid_utf8(servers):
    _, addr = start_chat(servers, "epoll")
    ann = join_as(addr, "ann")
    reply = ann.command("/" + "\u4e16" * 20)
    assert reply.startswith(b"!!! unknown command /") and reply.endswith(b" (try /help)"), reply
    assert_valid_utf8(reply)
