"""
Fixtures for the integration tests.

`servers` starts sockserv processes for one test and kills them (and any
fork-model children) in teardown. When a test fails, the stderr of every
server it started is printed, so the failure report shows the server's side.
"""

import os
import sys

import pytest

# Keep the source tree clean of __pycache__ directories from test runs.
sys.dont_write_bytecode = True

import harness  # noqa: E402


def pytest_report_header(config):
    return f"sockserv binary: {harness.BINARY}"


def pytest_sessionstart(session):
    if not os.access(harness.BINARY, os.X_OK):
        pytest.exit(
            f"sockserv binary not found or not executable at {harness.BINARY}; "
            "run `make` first or set SOCKSERV to its path",
            returncode=1,
        )


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "report_" + report.when, report)


@pytest.fixture
def servers(request):
    """A ServerPool: `servers.start("tcp://127.0.0.1:0/echo", model="epoll")`."""
    pool = harness.ServerPool()
    yield pool
    started = list(pool.servers)
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for server in started:
            print(f"\n--- {server.describe()}")
    pool.close()
    # Under a sanitizer build a server may report a fault and go on (a
    # ThreadSanitizer race) or report it only as it exits: fail the test
    # that saw it, whatever the test itself checked.
    for server in started:
        found = harness.SANITIZER_REPORT_RE.search(server.stderr_text())
        if found:
            pytest.fail(f"sanitizer report from the server: {found.group(0)}\n{server.describe()}",
                        pytrace=False)


@pytest.fixture(scope="session")
def ipv6_error():
    """None when ::1 works here, else why not."""
    return harness.ipv6_loopback_error()


@pytest.fixture
def require_ipv6(ipv6_error):
    if ipv6_error is not None:
        pytest.skip(f"IPv6 loopback ::1 cannot be bound on this machine: {ipv6_error}")
