"""
--max-conns bounds how many clients are served at once: with --max-conns 2,
a third client is not served until one of the first two leaves (it waits
in the backlog, it is not turned away). The thread model is the one the
option exists for; `serve --help` promises the same of every model.
"""

import pytest

from harness import CONCURRENT_MODELS, connect, echo_roundtrip, recv_exactly, recv_for


@pytest.mark.parametrize("model", CONCURRENT_MODELS)
def test_third_client_waits_for_a_free_slot(servers, model):
    server = servers.start("tcp://127.0.0.1:0/echo", model=model, options=["--max-conns", "2"])
    addr = server.addr("echo")
    a, b = connect(addr), connect(addr)
    c = None
    try:
        assert echo_roundtrip(a, b"a") == b"a"
        assert echo_roundtrip(b, b"b") == b"b"
        # The third may connect (the kernel's backlog takes it) but gets no echo.
        c = connect(addr)
        c.sendall(b"third")
        early, eof = recv_for(c, 0.5)
        assert early == b"" and not eof, (
            f"third client got {early!r} (EOF {eof}) while two were connected")
        assert echo_roundtrip(b, b"b2") == b"b2"
        a.close()
        assert recv_exactly(c, 5, timeout=3.0) == b"third"
        assert echo_roundtrip(c, b"more") == b"more"
    finally:
        for s in (a, b, c):
            if s is not None:
                s.close()
