"""
`make install DESTDIR=D PREFIX=/usr` puts the program, its man page and the
documents the man page points to (README.md, docs/*.md) under D/usr, the
man page naming where the documents went and showing EXAMPLES for every
subcommand; `make uninstall` with the same variables takes them all away.
The binary already built is installed as it is, never rebuilt here.
"""

import os
import re
import subprocess
from pathlib import Path

from harness import BINARY, REPO_ROOT

SUBCOMMANDS = ["serve", "client", "chat", "bench"]


def make(target, destdir):
    binary = Path(BINARY).resolve()
    build = os.path.relpath(binary.parent, REPO_ROOT)
    # -o: the binary counts as up to date, so make installs the one under
    # test (build/, build/sanitize/...) instead of compiling a new one.
    proc = subprocess.run(["make", "-s", "-C", str(REPO_ROOT), f"BUILD={build}",
                           "-o", f"{build}/sockserv", target, f"DESTDIR={destdir}",
                           "PREFIX=/usr"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"make {target} failed:\n{proc.stdout}\n{proc.stderr}"


def installed_files(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


def test_install_then_uninstall(tmp_path):
    assert Path(BINARY).name == "sockserv", BINARY
    dest = tmp_path / "pkg"
    make("install", dest)
    usr = dest / "usr"
    program = usr / "bin" / "sockserv"
    assert os.access(program, os.X_OK)
    version = subprocess.run([str(program), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("sockserv "), version

    docdir = usr / "share" / "doc" / "sockserv"
    assert (docdir / "README.md").read_bytes() == (REPO_ROOT / "README.md").read_bytes()
    for doc in sorted((REPO_ROOT / "docs").glob("*.md")):
        assert (docdir / "docs" / doc.name).read_bytes() == doc.read_bytes(), doc.name

    man = (usr / "share" / "man" / "man1" / "sockserv.1").read_text()
    assert "/usr/share/doc/sockserv" in man, "the man page does not say where the docs went"
    assert "/usr/local/share/doc" not in man, "the man page points at the default PREFIX"
    # Every document the man page names is installed.
    for name in set(re.findall(r"([a-z-]+\.md)", man)):
        assert list(docdir.rglob(name)), f"the man page names {name}, which is not installed"
    examples = man.split(".SH EXAMPLES", 1)
    assert len(examples) == 2, "the man page has no EXAMPLES section"
    section = examples[1].split("\n.SH ", 1)[0]
    for command in SUBCOMMANDS:
        assert f".SS {command}" in section, f"EXAMPLES has no {command} part"
        assert f"sockserv {command}" in section, f"EXAMPLES shows no sockserv {command}"

    make("uninstall", dest)
    assert installed_files(dest) == [], installed_files(dest)
    assert not docdir.exists(), "make uninstall left the doc directory behind"
