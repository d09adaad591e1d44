"""Client processes that open, exercise and hold many idle TCP connections
from spread-out 127.x.y.z source addresses (so that no source address runs
out of ephemeral ports), for memory_scale's experiments.

A Holder is one such process seen from the script: it sends it commands
(connect, echo BYTES, count, close) on stdin and reads one JSON reply per
command on its stdout, each with a time limit. The process itself is
`python3 -m bench.lib.holders CONFIG_JSON`, pinned to the load cores; it
exits by itself after max_seconds or when its stdin closes.
"""

import errno
import json
import os
import select
import selectors
import socket
import subprocess
import sys
import time

if __package__:
    from .cores import DEFAULT as CORES
    from .servers import REPO, forget_group, track_group
else:  # Started as a file: the package is the repository's bench.lib.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    from bench.lib.cores import DEFAULT as CORES
    from bench.lib.servers import REPO, forget_group, track_group

# Linux's IP_BIND_ADDRESS_NO_PORT: bind() fixes only the source address and
# the port is chosen at connect(), unique per 4-tuple rather than per address.
IP_BIND_ADDRESS_NO_PORT = 24


def _source_list(base, count, per_source):
    out, n = [], int.from_bytes(socket.inet_aton(base), "big")
    while len(out) * per_source < count:
        if n & 0xFF not in (0, 255):
            out.append(socket.inet_ntoa(n.to_bytes(4, "big")))
        n += 1
    return out


class _Hold:
    """The body of one holder process: see hold_main."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.socks = []
        self.deadline = time.monotonic() + cfg["max_seconds"]

    def reply(self, obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def connect(self):
        cfg = self.cfg
        host, port, count = cfg["host"], cfg["port"], cfg["count"]
        sources = _source_list(cfg["source_base"], count, cfg["per_source"])
        inflight_max, rate = cfg.get("inflight", 256), cfg.get("rate", 20000)
        timeout = cfg.get("connect_timeout", 10.0)
        ep = select.epoll()
        pending = {}
        errors = {}
        first_error = None
        started = time.monotonic()
        made = 0
        stop_creating = False
        i = 0
        while (i < count and not stop_creating) or pending:
            now = time.monotonic()
            if now > self.deadline:
                first_error = first_error or "holder deadline passed while connecting"
                break
            allowed = int((now - started) * rate) + 1
            while (i < count and not stop_creating and len(pending) < inflight_max
                   and i < allowed):
                src = sources[i // cfg["per_source"]]
                i += 1
                try:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                except OSError as e:
                    name = errno.errorcode.get(e.errno, str(e.errno))
                    errors[f"socket:{name}"] = errors.get(f"socket:{name}", 0) + 1
                    first_error = first_error or f"socket(): {e.strerror} ({name})"
                    stop_creating = True
                    break
                try:
                    s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                    s.bind((src, 0))
                    s.setblocking(False)
                    rc = s.connect_ex((host, port))
                except OSError as e:
                    rc = e.errno
                if rc == 0:
                    self.socks.append(s)
                    made += 1
                elif rc == errno.EINPROGRESS:
                    pending[s.fileno()] = (s, time.monotonic())
                    ep.register(s.fileno(), select.EPOLLOUT)
                else:
                    name = errno.errorcode.get(rc, str(rc))
                    errors[f"connect:{name}"] = errors.get(f"connect:{name}", 0) + 1
                    first_error = first_error or f"connect() from {src}: {os.strerror(rc)} ({name})"
                    s.close()
                    if rc in (errno.EADDRNOTAVAIL, errno.EMFILE, errno.ENFILE, errno.ENOBUFS,
                              errno.ENOMEM):
                        stop_creating = True
            for fd, _ in ep.poll(0.01):
                s, _ = pending.pop(fd)
                ep.unregister(fd)
                rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if rc == 0:
                    self.socks.append(s)
                    made += 1
                else:
                    name = errno.errorcode.get(rc, str(rc))
                    errors[f"connect:{name}"] = errors.get(f"connect:{name}", 0) + 1
                    first_error = first_error or f"connect(): {os.strerror(rc)} ({name})"
                    s.close()
            now = time.monotonic()
            for fd, (s, t) in list(pending.items()):
                if now - t > timeout:
                    pending.pop(fd)
                    ep.unregister(fd)
                    s.close()
                    errors["connect:timeout"] = errors.get("connect:timeout", 0) + 1
                    first_error = first_error or f"connect(): no answer within {timeout}s"
        for fd, (s, _) in pending.items():
            s.close()
        ep.close()
        self.reply({"event": "connected", "asked": count, "attempted": i, "established": made,
                    "errors": errors, "first_error": first_error,
                    "elapsed_s": round(time.monotonic() - started, 3),
                    "sources": len(sources)})

    def echo(self, size):
        """One round trip on every connection: size bytes out, the same back."""
        started = time.monotonic()
        timeout = self.cfg.get("echo_timeout", 60.0)
        deadline = min(self.deadline, started + timeout)
        ep = select.epoll()
        want = {}
        errors = {}
        first_error = None
        for n, s in enumerate(self.socks):
            msg = (b"%d " % n).ljust(size - 1, b"x")[:size - 1] + b"\n"
            try:
                sent = s.send(msg)
            except OSError as e:
                sent = -1
                name = errno.errorcode.get(e.errno, str(e.errno))
                errors[f"send:{name}"] = errors.get(f"send:{name}", 0) + 1
                first_error = first_error or f"send(): {e.strerror}"
            if sent == len(msg):
                want[s.fileno()] = [s, msg, b""]
                ep.register(s.fileno(), select.EPOLLIN)
            elif sent >= 0:
                errors["send:short"] = errors.get("send:short", 0) + 1
        ok = 0
        while want and time.monotonic() < deadline:
            for fd, _ in ep.poll(0.05):
                entry = want.get(fd)
                if entry is None:
                    continue
                s, msg, got = entry
                try:
                    chunk = s.recv(len(msg) - len(got))
                except BlockingIOError:
                    continue
                except OSError as e:
                    chunk = None
                    name = errno.errorcode.get(e.errno, str(e.errno))
                    errors[f"recv:{name}"] = errors.get(f"recv:{name}", 0) + 1
                    first_error = first_error or f"recv(): {e.strerror}"
                if chunk == b"":
                    errors["recv:closed"] = errors.get("recv:closed", 0) + 1
                    first_error = first_error or "server closed the connection"
                if not chunk:
                    ep.unregister(fd)
                    del want[fd]
                    continue
                got += chunk
                entry[2] = got
                if len(got) == len(msg):
                    ep.unregister(fd)
                    del want[fd]
                    if got == msg:
                        ok += 1
                    else:
                        errors["mismatch"] = errors.get("mismatch", 0) + 1
        if want:
            errors["timeout"] = len(want)
            first_error = first_error or f"{len(want)} echoes unanswered after {timeout}s"
        ep.close()
        self.reply({"event": "echoed", "connections": len(self.socks), "ok": ok,
                    "errors": errors, "first_error": first_error,
                    "elapsed_s": round(time.monotonic() - started, 3)})

    def close_all(self):
        linger = (1).to_bytes(4, "little") + (0).to_bytes(4, "little")
        for s in self.socks:
            try:
                # An abortive close (RST) leaves no TIME_WAIT behind, so a
                # rerun finds every source port free.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                s.close()
            except OSError:
                pass
        n = len(self.socks)
        self.socks = []
        return n

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(sys.stdin, selectors.EVENT_READ)
        try:
            while time.monotonic() < self.deadline:
                if not sel.select(max(0.0, min(1.0, self.deadline - time.monotonic()))):
                    continue
                line = sys.stdin.readline()
                if not line:
                    break  # whoever started us is gone
                cmd = line.split()
                if not cmd:
                    continue
                if cmd[0] == "connect":
                    self.connect()
                elif cmd[0] == "echo":
                    self.echo(int(cmd[1]) if len(cmd) > 1 else 16)
                elif cmd[0] == "count":
                    self.reply({"event": "count", "connections": len(self.socks)})
                elif cmd[0] == "close":
                    self.reply({"event": "closed", "connections": self.close_all()})
                    break
        finally:
            self.close_all()



def hold_main(args_json):
    cfg = json.loads(args_json)
    CORES.pin_this_process_to_load()
    _Hold(cfg).run()


class Holder:
    """A holder process seen from the script: send it commands, read replies,
    each with a time limit. It exits by itself at max_seconds or when its
    stdin closes."""

    def __init__(self, host, port, count, source_base, per_source=1000, max_seconds=300,
                 rate=20000, inflight=256, echo_timeout=60.0):
        cfg = {"host": host, "port": port, "count": count, "source_base": source_base,
               "per_source": per_source, "max_seconds": max_seconds, "rate": rate,
               "inflight": inflight, "echo_timeout": echo_timeout}
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.lib.holders", json.dumps(cfg)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     start_new_session=True, cwd=str(REPO))
        track_group(self.proc.pid)

    def send(self, command):
        try:
            self.proc.stdin.write((command + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def read(self, timeout):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            sel.close()
            return {"event": "timeout", "first_error": f"holder silent for {timeout:.0f}s"}
        sel.close()
        line = self.proc.stdout.readline()
        if not line:
            return {"event": "gone", "first_error":
                    f"holder exited with status {self.proc.poll()}"}
        return json.loads(line)

    def close(self):
        self.send("close")
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        forget_group(self.proc.pid)


def all_holders(holders, command, timeout):
    """Sends command to every holder at once, then collects every reply."""
    for h in holders:
        h.send(command)
    deadline = time.monotonic() + timeout
    return [h.read(max(0.1, deadline - time.monotonic())) for h in holders]


def close_holders(holders):
    for h in holders:
        h.send("close")
    for h in holders:
        h.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 -m bench.lib.holders CONFIG_JSON (started by Holder)")
    hold_main(sys.argv[1])
