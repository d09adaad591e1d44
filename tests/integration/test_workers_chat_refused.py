"""
Chat shares rooms and nicks between its clients, which --workers would
split between processes. Asked for chat with --workers, serve exits 2 with
one line on stderr before binding anything; given no listeners, serve
--workers starts the default set without chat and says so on stderr.
Worker counts other than 1 to 256 are usage errors too.

The default set binds fixed ports (7007, ...), which another server on this
machine may hold, so that test runs the server in a network namespace of
its own when it can.
"""

import shutil
import signal
import socket
import subprocess

import pytest

import harness
from harness import BINARY, LOG_PREFIX, run_sockserv
from udp_helpers import udp_listeners, wait_udp_listening

DEFAULT_TCP = {"echo": 7007, "discard": 7009, "daytime": 7013, "chargen": 7019, "time": 7037,
               "upper": 7100}


@pytest.mark.parametrize("model", ["epoll", "uring", "thread"])
def test_workers_refuse_chat_with_one_line(model):
    rc, out, err = run_sockserv(["serve", "--workers", "2", "-m", model,
                                 "tcp://127.0.0.1:0/echo", "tcp://127.0.0.1:0/chat"])
    lines = err.splitlines()
    assert rc == 2, f"exit status {rc}; stderr {err!r}"
    assert len(lines) == 1, f"expected one stderr line: {err!r}"
    assert "chat" in lines[0] and "--workers" in lines[0], f"the line does not say why: {lines[0]!r}"
    assert out == "", f"it announced listeners before refusing: {out!r}"


@pytest.mark.parametrize("value", ["0", "x", "257", "-2"])
def test_workers_count_must_be_a_whole_number_from_1(value):
    rc, out, err = run_sockserv(["serve", "--workers", value, "tcp://127.0.0.1:0/echo"])
    assert rc == 2, f"--workers {value!r}: exit status {rc}; stderr {err!r}"
    assert len(err.splitlines()) == 1 and "--workers" in err, err
    assert out == "", out


def netns_prefix():
    """A command prefix that runs in a fresh network namespace, or None."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for prefix in ([unshare, "-n"], [unshare, "-r", "-n"]):
        try:
            ok = subprocess.run([*prefix, "true"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return prefix
    return None


def default_ports_free():
    for port in [*DEFAULT_TCP.values(), 7777]:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def test_workers_default_set_leaves_chat_out(servers, tmp_path, monkeypatch):
    prefix = netns_prefix()
    if prefix is None:
        if not default_ports_free():
            pytest.skip("no network namespace here, and the default ports are taken")
    else:
        # The server runs through a script that enters a fresh namespace
        # and then becomes sockserv (unshare execs, so the pid stays).
        script = tmp_path / "sockserv-in-netns"
        script.write_text("#!/bin/sh\nexec " + " ".join(f"'{a}'" for a in prefix) +
                          f" -- '{BINARY}' \"$@\"\n")
        script.chmod(0o755)
        monkeypatch.setattr(harness, "BINARY", str(script))
    server = servers.start(options=["--workers", "2"], expect_lines=0)
    wait_udp_listening(server, len(DEFAULT_TCP))
    tcp = {l.service: l.port for l in server.listeners}
    assert tcp == DEFAULT_TCP, f"TCP listeners {tcp}\n{server.describe()}"
    assert "chat" not in {svc for _, _, svc in udp_listeners(server)}, server.stdout_lines
    server.wait_for_stderr(r"^" + LOG_PREFIX + r"sockserv: not serving chat: .*--workers")
    about_chat = [l for l in server.stderr_text().splitlines() if "chat" in l]
    assert len(about_chat) == 1, f"expected one line about chat: {about_chat!r}"
    assert server.alive(), server.describe()
    server.signal(signal.SIGTERM)
    # Only a hang fails here: a stop is quick, but under ThreadSanitizer on
    # a loaded machine two workers of twelve listeners each took over 5 s.
    assert server.wait_exit(15.0) == 0, server.describe()
