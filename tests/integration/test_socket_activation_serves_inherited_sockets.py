"""
systemd socket activation: started with sockets already bound at fds 3, 4
(LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES naming each socket's service),
sockserv binds nothing, announces each inherited socket as it would its own,
and serves them under every model, with --threads and --workers too (they
share the inherited sockets). Sockets meant for another process are left alone; a bad name, a
descriptor that is no socket or listener arguments beside them are one-line
errors.

The sockets are passed by tests/tools/socket_activate.py, a launcher of the
test's own, so every run is the same; systemd-socket-activate (Debian's
systemd package) is tried too where it is installed.
"""

import os
import re
import shutil
import socket
import subprocess

import pytest

import harness

LAUNCHER = str(harness.REPO_ROOT / "tests" / "tools" / "socket_activate.py")


def start_activated(servers, sockets, options=(), expect_tcp=1, launcher=None):
    """Starts `sockserv serve OPTIONS` with sockets passed by the launcher,
    and waits for expect_tcp TCP 'listening' lines."""
    argv = launcher or [LAUNCHER, *sockets, "--"]
    server = harness.servers.Server([*argv, harness.BINARY, "serve", *options])
    servers.servers.append(server)  # Killed in teardown whatever happens.
    server.wait_listening(expect_tcp, harness.START_TIMEOUT)
    return server


def udp_url(server, service):
    for url in server.urls:
        found = re.fullmatch(rf"udp://(\[[0-9a-f:]+\]|[0-9.]+):(\d+)/{service}", url)
        if found:
            return found.group(1).strip("[]"), int(found.group(2))
    raise AssertionError(f"no udp {service} in {server.urls}")


def check_echo_and_daytime(server):
    echo = server.addr("echo")
    for i in range(4):
        with harness.connect(echo) as s:
            assert harness.echo_roundtrip(s, b"activated %d\n" % i) == b"activated %d\n" % i
    host, port = udp_url(server, "daytime")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(harness.IO_TIMEOUT)
        u.sendto(b"?", (host, port))
        reply = u.recvfrom(1024)[0]
    assert re.search(rb"\d\d:\d\d:\d\d", reply), reply


SCALING = [
    pytest.param([], id="alone"),
    pytest.param(["--workers", "2"], id="workers-2"),
]


@pytest.mark.parametrize("scaling", SCALING)
@pytest.mark.parametrize("model", harness.MODELS)
def test_two_named_sockets_served_under_every_model(servers, model, scaling):
    server = start_activated(servers, ["udp:127.0.0.1:0=daytime", "tcp:127.0.0.1:0=echo"],
                             ["-m", model, *scaling])
    # Announced as bound ones are, in the order they were passed (UDP first,
    # so that waiting for the TCP line has read both).
    assert len(server.urls) == 2 and server.urls[1].endswith("/echo"), server.urls
    assert server.urls[0].startswith("udp://127.0.0.1:") and server.urls[0].endswith("/daytime")
    check_echo_and_daytime(server)
    if scaling:
        server.wait_for_stderr(r"shares the inherited sockets", harness.IO_TIMEOUT)


def test_threads_and_workers_share_the_inherited_sockets(servers):
    server = start_activated(servers, ["udp:127.0.0.1:0=daytime", "tcp:127.0.0.1:0=echo"],
                             ["-m", "epoll", "--workers", "2", "--threads", "2"])
    check_echo_and_daytime(server)
    assert harness.wait_until(lambda: len(harness.children_of(server.pid)) == 2, 5.0)
    # No worker holds a socket it bound itself: each listening descriptor of
    # every process is one of the two inherited sockets.
    inodes = set()
    for pid in [server.pid, *harness.children_of(server.pid)]:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:"):
                inodes.add(target)
    listening = sum(1 for inode in inodes if is_bound_socket(inode))
    assert listening == 2, inodes


def is_bound_socket(inode_text):
    """Whether socket:[N] is a listening TCP or bound UDP socket of ours."""
    inode = inode_text[len("socket:["):-1]
    for table, state in (("tcp", "0A"), ("udp", "07")):
        with open(f"/proc/net/{table}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[9] == inode and fields[3] == state:
                    return True
    return False


def test_ipv6_socket_named_with_query_keeps_its_service(servers, require_ipv6):
    server = start_activated(servers, ["tcp:[::1]:0=echo?max-per-source=4"])
    assert server.listeners[0].host.strip("[]") == "::1"
    with harness.connect(server.addr("echo", socket.AF_INET6)) as s:
        assert harness.echo_roundtrip(s, b"six\n") == b"six\n"


def test_a_query_in_the_socket_name_sets_that_listeners_rules(servers):
    """FileDescriptorName=echo?deny=127.0.0.0/8 refuses local clients of that
    socket alone; the daytime socket beside it still serves them."""
    server = start_activated(servers, ["tcp:127.0.0.1:0=echo?deny=127.0.0.0/8",
                                       "tcp:127.0.0.1:0=daytime"], expect_tcp=2)
    with harness.connect(server.addr("echo")) as s:
        try:
            s.sendall(b"refused?\n")
            got = s.recv(100)
        except ConnectionResetError:
            got = b""
        assert got == b"", f"a denied client was served: {got!r}"
    with harness.connect(server.addr("daytime")) as s:
        assert harness.recv_all(s).endswith(b"\n")


def test_sockets_meant_for_another_process_are_left_alone(servers):
    """LISTEN_PID names another process: sockserv binds its listener
    arguments as usual."""
    server = start_activated(servers, ["tcp:127.0.0.1:0=daytime"],
                             ["tcp://127.0.0.1:0/echo"],
                             launcher=[LAUNCHER, "--env-pid", "1", "tcp:127.0.0.1:0=daytime", "--"])
    assert [listener.service for listener in server.listeners] == ["echo"]


@pytest.mark.parametrize("sockets,args,status,why", [
    (["tcp:127.0.0.1:0="], [], 2, "has no name"),
    (["tcp:127.0.0.1:0=echo.socket"], [], 2, "which is no service"),
    (["udp:127.0.0.1:0=chat"], [], 2, "chat needs a stream"),
    (["pipe"], [], 1, "not a socket"),
    (["tcp:127.0.0.1:0=echo"], ["tcp://127.0.0.1:0/echo"], 2, "give no LISTENER"),
    (["tcp:127.0.0.1:0=echo"], ["--workers", "2", "--balance", "reuseport"], 2,
     "cannot split inherited sockets"),
])
def test_bad_activation_is_one_line(sockets, args, status, why):
    proc = subprocess.run([LAUNCHER, *sockets, "--", harness.BINARY, "serve", *args],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    err = proc.stderr.decode()
    assert proc.returncode == status, err
    assert proc.stdout == b""
    lines = [line for line in err.splitlines() if "serving as root" not in line]
    assert len(lines) == 1 and why in lines[0], err


def test_systemd_socket_activate_starts_it(servers):
    tool = shutil.which("systemd-socket-activate")
    if tool is None:
        pytest.skip("systemd-socket-activate is not installed (Debian's systemd package); "
                    "the launcher of this test's own covers socket activation")
    echo_port, daytime_port = harness.servers.free_port(), harness.servers.free_port()
    argv = [tool, "-l", f"127.0.0.1:{echo_port}", "-l", f"127.0.0.1:{daytime_port}",
            "--fdname=echo:daytime", harness.BINARY, "serve", "-m", "epoll", "--workers", "2"]
    server = harness.servers.Server(argv)
    servers.servers.append(server)
    # It starts the service on the first client, as systemd does.
    server.wait_for_stderr(rf"Listening on 127.0.0.1:{daytime_port}", harness.START_TIMEOUT)
    with harness.connect(("127.0.0.1", echo_port)) as first:
        first.sendall(b"systemd\n")
        server.wait_listening(2, harness.START_TIMEOUT)
        assert server.addr("echo") == ("127.0.0.1", echo_port)
        assert server.addr("daytime") == ("127.0.0.1", daytime_port)
        assert harness.recv_exactly(first, 8) == b"systemd\n"
    with harness.connect(server.addr("daytime")) as s:
        assert re.search(rb"\d\d:\d\d:\d\d", harness.recv_all(s))


def test_activated_server_drops_root_too(servers):
    if os.geteuid() != 0:
        pytest.skip("needs root: --user drops root")
    server = start_activated(servers, ["udp:127.0.0.1:0=daytime", "tcp:127.0.0.1:0=echo"],
                             ["--user", "nobody", "--workers", "2"])
    check_echo_and_daytime(server)
    for pid in [server.pid, *harness.children_of(server.pid)]:
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f)
        assert status["Uid"].split()[0] != "0" and int(status["CapEff"], 16) == 0
