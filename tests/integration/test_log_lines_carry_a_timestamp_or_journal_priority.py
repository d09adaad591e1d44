"""
Every line the server logs starts with when it happened: an RFC 3339
timestamp in UTC with milliseconds. When stderr is the journal
(JOURNAL_STREAM names stderr's device and inode, as systemd sets it) the
journal stamps lines itself, so they start with a syslog priority instead
("<6>" info, "<4>" warning, "<3>" error) and carry no timestamp.
"""

import datetime
import os
import re
import select
import signal
import socket
import subprocess

from harness import BINARY, connect, echo_roundtrip, wait_until

STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z sockserv: ")


def test_every_line_starts_with_an_rfc3339_millisecond_timestamp(servers):
    before = datetime.datetime.now(datetime.timezone.utc)
    server = servers.start("tcp://127.0.0.1:0/echo", options=["-v"])
    with connect(server.addr("echo")) as c:
        assert echo_roundtrip(c, b"stamp me") == b"stamp me"
    server.wait_for_stderr(r"client closed")
    server.signal(signal.SIGTERM)
    assert server.wait_exit(5.0) == 0, server.describe()
    after = datetime.datetime.now(datetime.timezone.utc)
    lines = server.stderr_at_exit().splitlines()
    assert len(lines) >= 4, server.describe()  # connected, closed, stopping, stopped
    for line in lines:
        m = STAMP.match(line)
        assert m, f"a line without a timestamp: {line!r}"
        when = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
        # The clock is UTC: the stamp falls within the run (to the millisecond).
        assert before - datetime.timedelta(milliseconds=1) <= when <= after, (line, before, after)


def run_with_stderr_file(tmp_path, env_for):
    """Runs an echo server with stderr in a file and JOURNAL_STREAM set by
    env_for(the file's stat); serves one client, stops the server, and
    returns its stderr lines."""
    err_path = tmp_path / "stderr"
    with open(err_path, "wb") as err:
        env = dict(os.environ, **env_for(os.fstat(err.fileno())))
        proc = subprocess.Popen([BINARY, "serve", "-v", "tcp://127.0.0.1:0/echo"],
                                stdout=subprocess.PIPE, stderr=err, env=env,
                                start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 5.0)
        assert ready, f"no listening line: {err_path.read_text()}"
        line = proc.stdout.readline().decode()
        port = int(re.search(r":(\d+)/echo", line).group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=5.0) as c:
            assert echo_roundtrip(c, b"journal") == b"journal"
        assert wait_until(lambda: "client closed" in err_path.read_text(), 5.0), \
            err_path.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5.0) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return err_path.read_text().splitlines()


def test_journal_lines_carry_a_priority_and_no_timestamp(tmp_path):
    lines = run_with_stderr_file(
        tmp_path, lambda st: {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
    assert lines, "nothing logged"
    for line in lines:
        assert re.match(r"^<[3467]>sockserv: ", line), f"not a journal line: {line!r}"
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", line), f"a timestamp in the journal: {line!r}"
    assert any(re.match(r"^<6>sockserv: client connected: ", l) for l in lines), lines
    assert any(re.match(r"^<7>sockserv: client closed: ", l) for l in lines), lines
    assert any(re.match(r"^<6>sockserv: stopping: ", l) for l in lines), lines


def test_a_journal_stream_of_another_file_keeps_timestamps(tmp_path):
    # What a child of a journald service sees once its stderr was
    # redirected: JOURNAL_STREAM still set, but naming another file.
    lines = run_with_stderr_file(
        tmp_path, lambda st: {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
    assert lines and all(STAMP.match(l) for l in lines), lines
