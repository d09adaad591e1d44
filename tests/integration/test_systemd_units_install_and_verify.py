"""
The example systemd units in contrib/systemd/: `make install` puts them in
$(PREFIX)/lib/systemd/system (under DESTDIR) with ExecStart pointing at the
installed binary, `make uninstall` takes them away, and systemd-analyze
verify finds nothing wrong with them (where it is installed). The classic
units name each socket after the service it serves, which is what socket
activation reads.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import harness

CONTRIB = harness.REPO_ROOT / "contrib" / "systemd"
UNITS = sorted(p.name for p in CONTRIB.iterdir() if p.suffix in (".socket", ".service"))
CLASSIC = {"echo": 7, "discard": 9, "daytime": 13, "chargen": 19, "time": 37}


def make(*args):
    proc = subprocess.run(["make", "-s", "-C", str(harness.REPO_ROOT), *args],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()


def install(tmp_path, bindir):
    make("install-systemd", f"DESTDIR={tmp_path}", "PREFIX=/usr", f"BINDIR={bindir}")
    return tmp_path / "usr" / "lib" / "systemd" / "system"


def test_install_puts_every_unit_in_place_and_uninstall_removes_them(tmp_path):
    unit_dir = install(tmp_path, "/usr/bin")
    assert sorted(p.name for p in unit_dir.iterdir()) == UNITS
    for name in UNITS:
        text = (unit_dir / name).read_text()
        for line in text.splitlines():
            if line.startswith("ExecStart="):
                assert line.startswith("ExecStart=/usr/bin/sockserv serve "), line
    make("uninstall-systemd", f"DESTDIR={tmp_path}", "PREFIX=/usr")
    assert list(unit_dir.iterdir()) == []


def test_classic_sockets_name_their_service_on_its_port():
    for service, port in CLASSIC.items():
        text = (CONTRIB / f"sockserv-classic-{service}.socket").read_text()
        assert f"FileDescriptorName={service}\n" in text
        assert f"ListenStream={port}\n" in text and f"ListenDatagram={port}\n" in text
        assert "Service=sockserv-classic.service" in text
    service = (CONTRIB / "sockserv-classic.service").read_text()
    assert re.search(r"^ExecStart=\S+ serve .*--user nobody", service, re.M)


def test_units_pass_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    unit_dir = install(tmp_path, str(Path(harness.BINARY).parent))
    # A template is verified through an instance of it.
    shutil.copy(unit_dir / "sockserv-echo@.service", unit_dir / "sockserv-echo@1.service")
    names = [n for n in UNITS if "@." not in n] + ["sockserv-echo@1.service"]
    proc = subprocess.run([tool, "verify", "--man=no", *names], cwd=unit_dir,
                          capture_output=True, timeout=60)
    output = (proc.stdout + proc.stderr).decode()
    # verify exits 0 on an unknown key or a bad value, and only says so.
    complaints = [line for line in output.splitlines() if "sockserv" in line]
    assert proc.returncode == 0 and not complaints, output
