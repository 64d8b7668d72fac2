"""Probes and process helpers of the local stack: does a port answer Kafka or
Redis, is a pid alive and ours, file locks and log tails."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from deploy.stack.config import _LOG_TAIL_LINES, HOST

# --------------------------------------------------------------------------- probes


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        buf += chunk
    return buf


def _kafka_answers(port: int) -> bool:
    """A real Metadata request (v4: understood by Kafka 1.0 up to 4.x).

    An open port is not enough: the broker accepts connections before it has
    joined its controller, and an unrelated server may hold the port.
    """
    client_id = b"statflow-stack"
    header = struct.pack(">hhih", 3, 4, 1, len(client_id)) + client_id  # Metadata v4, corr 1
    body = struct.pack(">i?", 0, False)  # no topics, don't auto-create
    request = header + body
    try:
        with socket.create_connection((HOST, port), timeout=2.0) as sock:
            sock.settimeout(2.0)
            sock.sendall(struct.pack(">i", len(request)) + request)
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            if not 8 <= size <= 1 << 20:
                return False
            resp = _recv_exact(sock, size)
    except (OSError, ConnectionError, struct.error):
        return False
    try:
        corr, _throttle, n_brokers = struct.unpack_from(">iii", resp, 0)
        if corr != 1:
            return False
        off = 12
        for _ in range(n_brokers):
            off += 4  # node_id
            (hlen,) = struct.unpack_from(">h", resp, off)
            off += 2 + hlen + 4  # host, port
            (rlen,) = struct.unpack_from(">h", resp, off)
            off += 2 + max(rlen, 0)  # rack (nullable)
        (clen,) = struct.unpack_from(">h", resp, off)
        off += 2 + max(clen, 0)  # cluster_id (nullable)
        (controller_id,) = struct.unpack_from(">i", resp, off)
    except struct.error:
        return False
    # Brokers listed and a controller known: the broker is serving, not just listening.
    return bool(n_brokers > 0 and controller_id >= 0)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=2.0) as sock:
            sock.settimeout(2.0)
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    # NOAUTH is still a Redis, one that wants the password from STATFLOW_REDIS_URL.
    return reply.startswith((b"+PONG", b"-NOAUTH"))


def _holder(port: int) -> str:
    """' (by java, pid 123)' when `ss` can tell; best effort, only for messages."""
    ss = shutil.which("ss")
    if ss is None:
        return ""
    try:
        r = subprocess.run(
            [ss, "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    m = re.search(r'users:\(\("([^"]+)",pid=(\d+)', r.stdout)
    return f" (by {m[1]}, pid {m[2]})" if m else ""


# --------------------------------------------------------------------------- processes


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    # A broker we started in this very process stays a zombie after it exits until
    # someone reaps it; kill(pid, 0) alone would call that alive.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs (macOS): kill(0) is all we have
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [a for a in raw.decode(errors="replace").split("\0") if a]
    except OSError:
        pass
    try:
        r = subprocess.run(
            ["ps", "-ww", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return r.stdout.split()


def _cwd(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _tails(paths: Sequence[Path]) -> str:
    parts = []
    for p in paths:
        try:
            lines = p.read_text(errors="replace").splitlines()
        except OSError:
            continue
        if lines:
            tail = "\n".join("    " + line for line in lines[-_LOG_TAIL_LINES:])
            parts.append(f"\nLast lines of {p}:\n{tail}")
    return "".join(parts) or "\n(no log output yet)"
