"""
`--user nobody`: sockserv started as root binds a privileged port, then
becomes nobody in every process and thread before it serves a byte: real,
effective, saved and filesystem ids all nobody's, no supplementary group of
root's, no capability left. Under --workers (and --threads) every worker's
sockets are bound before the drop, so a worker the supervisor replaces
serves on the privileged port without binding anything.

Started as root without --user, sockserv warns in one line and serves.
"""

import os
import pwd
import signal
import socket
import subprocess

import pytest

import harness

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: --user drops root, and only root binds ports below 1024")


def nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("this machine has no user 'nobody'")


def free_privileged_port():
    """A port below 1024 free on 127.0.0.1 for both TCP and UDP."""
    for port in range(1023, 600, -1):
        try:
            with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                t.bind(("127.0.0.1", port))
                u.bind(("127.0.0.1", port))
                return port
        except OSError:
            continue
    pytest.skip("no port from 601 to 1023 is free on 127.0.0.1")


def credentials(pid, tid):
    fields = {}
    with open(f"/proc/{pid}/task/{tid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return fields


def assert_no_root_left(server, user):
    """Every thread of every process of the server runs as user, with no
    capability and no group but the user's own."""
    seen = 0
    for pid in harness.processes_in_group(server.pid):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for tid in tids:
            try:
                status = credentials(pid, tid)
            except FileNotFoundError:
                continue
            what = f"pid {pid} thread {tid}"
            assert status["Uid"] == [str(user.pw_uid)] * 4, f"{what}: Uid {status['Uid']}"
            assert status["Gid"] == [str(user.pw_gid)] * 4, f"{what}: Gid {status['Gid']}"
            assert status.get("Groups", []) in ([], [str(user.pw_gid)]), \
                f"{what}: Groups {status.get('Groups')}"
            for cap in ("CapEff", "CapPrm", "CapAmb"):
                assert int(status[cap][0], 16) == 0, f"{what}: {cap} {status[cap]}"
            seen += 1
    assert seen > 0


def check_serves(server, port):
    with harness.connect(("127.0.0.1", port)) as held:
        # Held open, so fork's connection process and thread's connection
        # thread exist while the credentials are read.
        assert harness.echo_roundtrip(held, b"first\n") == b"first\n"
        assert_no_root_left(server, nobody())
    for i in range(4):
        with harness.connect(("127.0.0.1", port)) as s:
            assert harness.echo_roundtrip(s, b"hi %d\n" % i) == b"hi %d\n" % i
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(harness.IO_TIMEOUT)
        u.sendto(b"x", ("127.0.0.1", port))
        assert u.recvfrom(1024)[0].strip()


SCALING = [
    pytest.param([], id="one-process"),
    pytest.param(["--workers", "2"], id="workers-2"),
]


@needs_root
@pytest.mark.parametrize("scaling", SCALING)
@pytest.mark.parametrize("model", harness.MODELS)
def test_user_nobody_on_a_privileged_port(servers, model, scaling):
    user = nobody()
    port = free_privileged_port()
    server = servers.start(f"tcp://127.0.0.1:{port}/echo", f"udp://127.0.0.1:{port}/daytime",
                           model=model, options=["--user", "nobody", *scaling], expect_lines=1)
    server.wait_for_stderr(r"serving as user nobody, group ")
    assert "serving as root" not in server.stderr_text()
    check_serves(server, port)
    assert server.alive(), server.describe()
    assert user.pw_uid != 0


@needs_root
@pytest.mark.parametrize("scaling", [["--threads", "2"], ["--workers", "2", "--threads", "2"]],
                         ids=["threads-2", "workers-2-threads-2"])
def test_every_event_loop_binds_before_the_drop(servers, scaling):
    port = free_privileged_port()
    server = servers.start(f"tcp://127.0.0.1:{port}/echo", f"udp://127.0.0.1:{port}/daytime",
                           model="epoll", options=["--user", "nobody", *scaling], expect_lines=1)
    check_serves(server, port)


@needs_root
def test_a_replaced_worker_serves_without_binding(servers):
    port = free_privileged_port()
    server = servers.start(f"tcp://127.0.0.1:{port}/echo", model="epoll",
                           options=["--user", "nobody", "--workers", "2", "--threads", "2"])
    assert harness.wait_until(lambda: len(harness.children_of(server.pid)) == 2, 5.0)
    workers = sorted(harness.children_of(server.pid))
    os.kill(workers[0], signal.SIGKILL)
    server.wait_for_stderr(r"starting a new one")
    assert harness.wait_until(lambda: len(harness.children_of(server.pid)) == 2, 5.0)
    assert "cannot bind" not in server.stderr_text()
    # Enough clients that the kernel's hash sends some to the new worker.
    for i in range(12):
        with harness.connect(("127.0.0.1", port)) as s:
            assert harness.echo_roundtrip(s, b"again %d\n" % i) == b"again %d\n" % i
    assert_no_root_left(server, nobody())
    assert server.alive()


@needs_root
def test_root_without_user_warns_once_and_serves(servers):
    server = servers.start("tcp://127.0.0.1:0/echo")
    server.wait_for_stderr(r"serving as root")
    warnings = [line for line in server.stderr_text().splitlines() if "serving as root" in line]
    assert len(warnings) == 1, server.describe()
    assert "--user" in warnings[0]
    with harness.connect(server.addr("echo")) as s:
        assert harness.echo_roundtrip(s, b"root\n") == b"root\n"


@pytest.mark.parametrize("spec,why", [
    ("no-such-user-here", "unknown user"),
    ("nobody:no-such-group-here", "unknown group"),
    ("root", "is root"),
    ("nobody:root", "root's"),
    ("nobody:0", "root's"),
    (":nogroup", "NAME"),
])
def test_bad_user_is_a_usage_error(spec, why):
    rc, out, err = harness.run_sockserv(["serve", "--user", spec, "tcp://127.0.0.1:0/echo"])
    assert rc == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and why in lines[0] and "--user" in lines[0], err


@needs_root
def test_a_drop_that_cannot_happen_stops_the_start():
    """Not root, sockserv cannot become another user: it says so in one
    line and exits 1 without serving."""
    user = nobody()

    def become_nobody():
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    proc = subprocess.run(
        [harness.BINARY, "serve", "--user", "daemon", "tcp://127.0.0.1:0/echo"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=10,
        preexec_fn=become_nobody)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "cannot drop" in err and len(err.strip().splitlines()) == 1, err
    assert b"listening" not in proc.stdout
