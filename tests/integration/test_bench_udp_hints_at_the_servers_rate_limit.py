"""
`sockserv bench udp://...` against a server with the default per-source
--udp-rate measures the limit (every bench client shares one source
address): bench says so in one hint line on stderr naming `--udp-rate off`.
Against a server started with --udp-rate off there is no hint, and with
--json stdout stays one JSON object either way.
"""

import json
import subprocess

from harness import BINARY
from udp_helpers import start_udp, udp_addr

# Lost requests time out quickly, so a one-second run both spends the
# server's burst and sees the drops.
RUN = ["-c", "4", "-d", "1s", "--timeout", "200ms", "--json"]


def bench(server):
    host, port = udp_addr(server, "echo")
    url = f"udp://{host}:{port}/echo"
    proc = subprocess.run([BINARY, "bench", *RUN, url], capture_output=True, text=True,
                          timeout=30)
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def hints(err):
    return [l for l in err.splitlines() if "hint" in l]


def test_default_server_gets_one_hint_naming_udp_rate_off(servers):
    server = start_udp(servers, "udp://127.0.0.1:0/echo", options=["-q"])
    rc, result, err = bench(server)
    assert rc == 0, err
    assert result["errors"]["timeout"] > 0, result
    found = hints(err)
    assert len(found) == 1, f"expected one hint line, got stderr {err!r}"
    assert "--udp-rate off" in found[0], found[0]
    assert f"{result['requests']} replies" in found[0], found[0]


def test_server_without_the_limit_gets_no_hint(servers):
    server = start_udp(servers, "udp://127.0.0.1:0/echo", options=["-q", "--udp-rate", "off"])
    rc, result, err = bench(server)
    assert rc == 0, err
    assert not hints(err), err
    # Far more than the default limit would let through in a second.
    assert result["requests"] > 1000, result
