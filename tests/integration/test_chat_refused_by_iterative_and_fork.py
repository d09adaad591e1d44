"""
Chat needs its clients to share one process's state, so the iterative and
fork models, and --workers, refuse it: exit status 2 and one clear line,
before serving anything.
"""

import pytest

from chat_helpers import CHAT_REFUSING_MODELS
from harness import run_sockserv


@pytest.mark.parametrize("model", CHAT_REFUSING_MODELS)
def test_chat_is_refused_with_one_line(model):
    rc, out, err = run_sockserv(["serve", "-m", model, "tcp://127.0.0.1:0/chat"])
    assert rc == 2, f"exit status {rc}; stderr {err!r}"
    assert out == "", out
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"sockserv serve: the {model} model cannot serve chat: "), lines[0]


@pytest.mark.parametrize("model", CHAT_REFUSING_MODELS)
def test_chat_is_refused_among_other_listeners(model):
    rc, out, err = run_sockserv(["serve", "-m", model, "tcp://127.0.0.1:0/echo",
                                 "tcp://127.0.0.1:0/chat"])
    assert rc == 2 and "listening" not in out, (rc, out, err)
    assert len(err.splitlines()) == 1 and "cannot serve chat" in err, err


def test_chat_is_refused_with_workers():
    rc, out, err = run_sockserv(["serve", "-m", "epoll", "--workers", "2",
                                 "tcp://127.0.0.1:0/chat"])
    assert rc == 2 and out == "", (rc, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sockserv serve: cannot serve chat with "
                                                   "--workers: "), err
