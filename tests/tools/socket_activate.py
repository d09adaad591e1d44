#!/usr/bin/python3
"""
A socket-activation launcher for tests, as systemd or systemd-socket-activate
would start a service, but deterministic: it binds each socket named on the
command line, places them at descriptors 3, 4, ... in order, sets LISTEN_FDS,
LISTEN_FDNAMES and LISTEN_PID (its own pid, which exec keeps) and execs the
command.

    socket_activate.py [--env-pid N] tcp:127.0.0.1:0=echo udp:[::1]:0=daytime -- CMD ARGS...

--env-pid N sets LISTEN_PID to N instead (a test of the check that the
sockets were meant for this process).
SOCKET 'tcp:HOST:PORT=' passes an empty name, and 'pipe' a descriptor that
is no socket.
"""

import fcntl
import os
import socket
import sys


def parse_address(text):
    host, _, port = text.rpartition(":")
    if host.startswith("["):
        return socket.AF_INET6, host[1:-1], int(port)
    return socket.AF_INET, host, int(port)


def open_socket(spec):
    """(descriptor, name) for one SOCKET argument."""
    if spec == "pipe":
        read_end, _ = os.pipe()
        return read_end, "pipe"
    address, _, name = spec.partition("=")
    kind, _, where = address.partition(":")
    family, host, port = parse_address(where)
    if kind == "tcp":
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(128)
    elif kind == "udp":
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind((host, port))
    else:
        sys.exit(f"socket_activate.py: bad socket '{spec}': expected tcp:HOST:PORT=NAME or udp:...")
    return s.detach(), name


def main(argv):
    env_pid = None
    if argv[:1] == ["--env-pid"]:
        env_pid, argv = argv[1], argv[2:]
    if "--" not in argv:
        sys.exit(__doc__)
    split = argv.index("--")
    specs, command = argv[:split], argv[split + 1:]
    opened = [open_socket(spec) for spec in specs]
    # Move every socket above the target range first, so placing one at
    # 3 + i never overwrites another that still sits there.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 1000) for fd, _ in opened]
    for fd, _ in opened:
        os.close(fd)
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i, inheritable=True)
        os.close(fd)
    os.environ["LISTEN_FDS"] = str(len(opened))
    os.environ["LISTEN_FDNAMES"] = ":".join(name for _, name in opened)
    os.environ["LISTEN_PID"] = env_pid or str(os.getpid())
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
