"""
A server restarted on the same fixed port binds at once, even though the
connections it closed itself are still in TIME_WAIT (listeners set
SO_REUSEADDR).
"""

import signal
import struct
import time

import pytest

from harness import MODELS, RFC868_EPOCH_OFFSET, connect, recv_all, wait_until

TCP_TIME_WAIT = "06"


def time_wait_on_port(port):
    """True if /proc/net/tcp shows a TIME_WAIT socket with local port port."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            if local_port == port and fields[3] == TCP_TIME_WAIT:
                return True
    return False


def assert_time_service_works(addr):
    with connect(addr) as c:
        data = recv_all(c)
    assert len(data) == 4, data
    assert abs(struct.unpack("!I", data)[0] - (time.time() + RFC868_EPOCH_OFFSET)) < 5


@pytest.mark.parametrize("model", MODELS)
def test_restart_on_same_port_binds_despite_time_wait(servers, model):
    first = servers.start("tcp://127.0.0.1:0/time", model=model)
    port = first.addr("time")[1]
    # The time service closes first, which leaves TIME_WAIT on the server's side.
    assert_time_service_works(("127.0.0.1", port))
    assert wait_until(lambda: time_wait_on_port(port), timeout=1.0), (
        "test precondition: no TIME_WAIT connection on the server's port")
    first.signal(signal.SIGTERM)
    assert first.wait_exit(5.0) == 0, first.describe()

    second = servers.start(f"tcp://127.0.0.1:{port}/time", model=model)
    assert second.addr("time") == ("127.0.0.1", port)
    assert_time_service_works(("127.0.0.1", port))
