"""
--threads runs several event loops, so it belongs to the event-loop models
(select, poll, epoll, uring). With a model that runs its own threads or
processes, or with a count that is not a whole number from 1 to 256, serve
exits 2 with one line on stderr before it binds anything.
"""

import pytest

from harness import run_sockserv

LISTENER = "tcp://127.0.0.1:0/echo"


@pytest.mark.parametrize("model", ["thread", "fork", "iterative"])
def test_threads_with_a_model_that_is_not_an_event_loop_is_refused(model):
    rc, out, err = run_sockserv(["serve", "--threads", "2", "-m", model, LISTENER])
    lines = err.splitlines()
    assert rc == 2, f"exit status {rc}; stderr {err!r}"
    assert len(lines) == 1, f"expected one stderr line: {err!r}"
    assert "--threads" in lines[0] and model in lines[0], f"the line does not say why: {lines[0]!r}"
    assert "event" in lines[0] or "select" in lines[0], f"no hint of what works: {lines[0]!r}"
    assert out == "", f"it announced listeners before refusing: {out!r}"


@pytest.mark.parametrize("value", ["0", "x", "-1", "2x", "257", ""])
def test_threads_count_must_be_a_whole_number_from_1(value):
    rc, out, err = run_sockserv(["serve", "--threads", value, LISTENER])
    lines = err.splitlines()
    assert rc == 2, f"--threads {value!r}: exit status {rc}; stderr {err!r}"
    assert len(lines) == 1, f"--threads {value!r}: expected one stderr line: {err!r}"
    assert "--threads" in lines[0], f"the line does not name the option: {lines[0]!r}"
    assert out == "", f"it announced listeners: {out!r}"


def test_threads_without_a_value_is_a_usage_error():
    rc, out, err = run_sockserv(["serve", LISTENER, "-t"])
    assert rc == 2 and len(err.splitlines()) == 1, (rc, err)
    assert out == "", out


@pytest.mark.parametrize("args, says", [
    (["--threads", "2", "--balance", "roundrobin"], "reuseport or shared"),
    (["--threads", "2", "--balance", ""], "reuseport or shared"),
    (["--balance", "shared"], "--threads or --workers"),
    (["--workers", "1", "--balance", "reuseport"], "--threads or --workers"),
])
def test_balance_is_reuseport_or_shared_and_needs_loops_to_balance(args, says):
    rc, out, err = run_sockserv(["serve", *args, LISTENER])
    lines = err.splitlines()
    assert rc == 2, f"{args}: exit status {rc}; stderr {err!r}"
    assert len(lines) == 1 and "--balance" in lines[0], f"{args}: {err!r}"
    assert says in lines[0], f"{args}: the line does not say what works: {lines[0]!r}"
    assert out == "", f"it announced listeners: {out!r}"
