"""
Where io_uring is missing (a kernel without it, or a seccomp policy that
hides or refuses it, as in many containers), `--model uring` fails at once
with exit status 1 and one stderr line that names io_uring and the cause,
instead of serving nothing or failing obscurely.

tests/tools/without_io_uring runs a command under a seccomp filter that
makes the io_uring system calls fail with ENOSYS (a kernel without
io_uring) or, with --eperm, EPERM (a policy that refuses it). The same
binary without the wrapper serves, and the wrapper does not hurt the
models that do not use io_uring, so it is io_uring alone that fails.

The server prints its `listening` lines before the model starts, so they
come before the error; these tests judge the exit status and the error
line, not their absence.
"""

import os
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness import BINARY, LISTENING_RE, LOG_PREFIX, REPO_ROOT, connect, echo_roundtrip

TOOL_SOURCE = REPO_ROOT / "tests" / "tools" / "without_io_uring.c"

CAUSES = {
    # What a kernel without io_uring answers, and what a refusing policy does.
    "enosys": ([], re.compile(r"not available|not supported|lacks|seccomp")),
    "eperm": (["--eperm"], re.compile(r"refused|security policy|not permitted|seccomp")),
}


@pytest.fixture(scope="module")
def without_io_uring(tmp_path_factory):
    """The launcher: $WITHOUT_IO_URING, the one `make integration` built
    beside the binary, or else one compiled here (`make build/sockserv`
    builds only the server)."""
    explicit = os.environ.get("WITHOUT_IO_URING")
    if explicit:
        return explicit
    built = Path(BINARY).resolve().parent / "tools" / "without_io_uring"
    if built.exists() and built.stat().st_mtime >= TOOL_SOURCE.stat().st_mtime:
        return str(built)
    out = tmp_path_factory.mktemp("tools") / "without_io_uring"
    cc = os.environ.get("CC", "cc")
    proc = subprocess.run([cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror",
                           str(TOOL_SOURCE), "-o", str(out)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == 0, f"cannot build {TOOL_SOURCE}:\n{proc.stderr.decode()}"
    return str(out)


def run_wrapped(tool, wrapper_args, serve_args, timeout):
    """(exit status, stdout, stderr) of `without_io_uring ... sockserv serve
    ...`; fails if it is still running after timeout."""
    argv = [tool, *wrapper_args, BINARY, "serve", *serve_args]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err_text = err.decode("utf-8", "replace")
        raise AssertionError(
            f"`{' '.join(argv)}` still ran after {timeout}s instead of exiting 1; "
            f"stderr ({len(err_text.splitlines())} lines):\n{err_text[-2000:]}") from None
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def assert_one_clear_error(rc, out, err, cause):
    lines = err.splitlines()
    assert rc == 1, f"exit status {rc}, expected 1; stderr {err!r}"
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}: {err!r}"
    line = lines[0]
    assert re.match(r"^" + LOG_PREFIX + r"sockserv: error: ", line), f"not an error line: {line!r}"
    assert "io_uring" in line, f"the error does not name io_uring: {line!r}"
    assert CAUSES[cause][1].search(line), f"the error does not say why ({cause}): {line!r}"
    others = [l for l in out.splitlines() if not LISTENING_RE.match(l)]
    assert not others, f"stdout has more than listening lines: {others!r}"


@pytest.mark.parametrize("cause", CAUSES)
def test_uring_without_io_uring_exits_1_with_one_line(without_io_uring, cause):
    rc, out, err = run_wrapped(without_io_uring, CAUSES[cause][0],
                               ["-m", "uring", "tcp://127.0.0.1:0/echo"], timeout=10)
    assert_one_clear_error(rc, out, err, cause)


def test_uring_threads_without_io_uring_exits_1_with_one_line(without_io_uring):
    # Every loop fails the same way; the user is told once.
    rc, out, err = run_wrapped(without_io_uring, [],
                               ["-m", "uring", "--threads", "2", "tcp://127.0.0.1:0/echo"],
                               timeout=10)
    assert_one_clear_error(rc, out, err, "enosys")


def test_uring_workers_without_io_uring_exit_1(without_io_uring):
    # Every worker fails at start for a reason a restart cannot cure; the
    # server must say so and exit, not respawn workers that serve nobody.
    rc, out, err = run_wrapped(without_io_uring, [],
                               ["-m", "uring", "--workers", "2", "tcp://127.0.0.1:0/echo"],
                               timeout=5)
    assert rc == 1, f"exit status {rc}, expected 1; stderr {err!r}"
    assert "io_uring" in err, f"the error does not name io_uring: {err!r}"


def test_same_binary_serves_uring_without_the_wrapper(servers):
    server = servers.start("tcp://127.0.0.1:0/echo", model="uring")
    with connect(server.addr("echo")) as c:
        assert echo_roundtrip(c, b"io_uring works here\n") == b"io_uring works here\n"


def read_line(pipe, timeout):
    """One line from a pipe within timeout, or what came before it."""
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([pipe], [], [], remaining)[0]:
            break
        chunk = os.read(pipe.fileno(), 1)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace")


@pytest.mark.parametrize("cause", CAUSES)
def test_wrapper_leaves_epoll_serving(without_io_uring, cause):
    # The filter blocks io_uring and nothing else: epoll serves under it.
    argv = [without_io_uring, *CAUSES[cause][0], BINARY, "serve", "-m", "epoll",
            "tcp://127.0.0.1:0/echo"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        line = read_line(proc.stdout, 10)
        m = LISTENING_RE.match(line.rstrip("\n"))
        assert m, f"no listening line under the wrapper: {line!r}, exit {proc.poll()}"
        with connect((m.group("host"), int(m.group("port")))) as c:
            assert echo_roundtrip(c, b"epoll under seccomp\n") == b"epoll under seccomp\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)
        proc.stdout.close()
        proc.stderr.close()
