"""
Helpers for the metrics tests: a scrape of the metrics service over a plain
socket, parsed by Prometheus's own parser (Debian's python3-prometheus-client),
and lookups of one sample in it.
"""

import socket

from prometheus_client.parser import text_string_to_metric_families

from harness import IO_TIMEOUT, connect, recv_all

CONTENT_TYPE = b"Content-Type: text/plain; version=0.0.4; charset=utf-8"


def http_exchange(addr, request, timeout=IO_TIMEOUT):
    """Sends request, half-closes, and returns (status, head, body) of the
    whole answer, read to the server's close."""
    with connect(addr, timeout) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        raw = recv_all(sock, timeout, limit=64 << 20)
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, f"no end of headers in {raw[:300]!r}"
    status = int(head.split(b" ", 2)[1])
    return status, head, body


def scrape(addr):
    """{(sample name, ((label, value), ...)): value} of one GET /metrics,
    after checking the answer's status, type and every family's HELP and
    TYPE."""
    status, head, body = http_exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
    assert status == 200, head
    assert CONTENT_TYPE in head.split(b"\r\n"), head
    text = body.decode("utf-8")
    samples = {}
    for family in text_string_to_metric_families(text):
        assert family.documentation, f"{family.name} has no HELP"
        assert family.type in ("counter", "gauge"), f"{family.name}: {family.type}"
        for s in family.samples:
            if family.type == "counter":
                assert s.name.endswith("_total"), s.name
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, listener=None, **labels):
    """The one sample of name whose labels include listener's and labels;
    fails when there is not exactly one."""
    want = dict(labels)
    found = []
    for (sample_name, sample_labels), v in samples.items():
        have = dict(sample_labels)
        if sample_name != name:
            continue
        if listener is not None and have.get("listener") != listener:
            continue
        if all(have.get(k) == w for k, w in want.items()):
            found.append(v)
    assert len(found) == 1, f"{len(found)} samples of {name} {listener} {labels}"
    return found[0]


def loop_series(samples):
    """{(worker, loop): open} of sockserv_loop_connections_open."""
    return {(dict(labels)["worker"], dict(labels)["loop"]): v
            for (name, labels), v in samples.items()
            if name == "sockserv_loop_connections_open"}
