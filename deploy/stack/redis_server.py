"""The distribution's redis-server: start it and tell which running one is ours."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from core.errors import StackError
from deploy.stack.config import _POLL, HOST, StackConfig
from deploy.stack.processes import _alive, _cmdline, _cwd, _file_lock, _read_pid, _tails, _unlink

# --------------------------------------------------------------------------- redis


def _redis_logs(cfg: StackConfig) -> list[Path]:
    return [cfg.redis_dir / "redis.log"]


def _our_redis_pid(cfg: StackConfig) -> int | None:
    pid = _read_pid(cfg.redis_dir / "redis.pid")
    if pid is None or not _alive(pid):
        return None
    if "redis-server" not in " ".join(_cmdline(pid)):
        return None
    # redis-server retitles itself ("redis-server 127.0.0.1:6379"), so the command
    # line can't tell our instance from another; its working dir (--dir) can.
    cwd = _cwd(pid)
    if cwd is not None and cwd != cfg.redis_dir / "data":
        return None
    return pid


def _check_same_port_redis(cfg: StackConfig, pid: int) -> None:
    m = re.search(r":(\d+)", " ".join(_cmdline(pid)))
    if m and int(m[1]) != cfg.redis_port:
        raise StackError(
            f"the Redis started from {cfg.root} is running on port {m[1]}, not "
            f"{cfg.redis_port}; run `stack down` first."
        )


def _start_redis(cfg: StackConfig, redis_server: str) -> int:
    d = cfg.redis_dir
    (d / "data").mkdir(parents=True, exist_ok=True)
    pidfile = d / "redis.pid"
    _unlink(pidfile)  # so that waiting for it below can't read a stale one
    cmd = [
        redis_server,
        "--port",
        str(cfg.redis_port),
        "--bind",
        HOST,
        # A cache for the app, not a store: no snapshots, no AOF.
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "yes",
        "--pidfile",
        str(pidfile),
        "--logfile",
        str(d / "redis.log"),
        "--dir",
        str(d / "data"),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise StackError(
            f"redis-server refused to start (exit {r.returncode}): "
            f"{(r.stdout + r.stderr).strip()}{_tails(_redis_logs(cfg))}"
        )
    # --daemonize: the child writes the pid file shortly after the parent exits.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pid = _read_pid(pidfile)
        if pid is not None:
            return pid
        time.sleep(_POLL)
    raise StackError(
        f"redis-server started but wrote no pid file {pidfile}.{_tails(_redis_logs(cfg))}"
    )


def ensure_redis_server() -> str:
    """Path of redis-server, installing the distribution package if we may."""
    found = _which_redis()
    if found:
        return found
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        raise StackError(
            "redis-server is not installed: install it (`sudo apt-get install redis-server`, "
            "`brew install redis`, ...) and run `up` again."
        )
    # apt's own lock makes a concurrent second install fail instead of wait.
    with _file_lock(Path(tempfile.gettempdir()) / "statflow-redis-install.lock"):
        found = _which_redis()
        if found:
            return found
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = [apt, "install", "-y", "-q", "--no-install-recommends", "redis-server"]
        r = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600)
        if r.returncode != 0:  # usually stale package lists
            subprocess.run([apt, "update", "-q"], capture_output=True, env=env, timeout=600)
            r = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600)
        found = _which_redis()
        if r.returncode != 0 or not found:
            raise StackError(
                f"`apt-get install redis-server` failed (exit {r.returncode}); install it by "
                f"hand and run `up` again.\n{(r.stdout + r.stderr).strip()[-2000:]}"
            )
        return found


def _which_redis() -> str | None:
    # /usr/sbin isn't on every PATH, and some distributions put redis-server there.
    return shutil.which("redis-server") or shutil.which(
        "redis-server", path="/usr/bin:/usr/sbin:/usr/local/bin"
    )
