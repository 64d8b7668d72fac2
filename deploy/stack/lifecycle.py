"""`up`, `down` and `status` of the local stack (the ownership rule is in
deploy/stack/__init__.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.errors import StackError
from deploy.stack.config import _POLL, HOST, KAFKA_STOP_GRACE, ServiceStatus, StackConfig
from deploy.stack.kafka import (
    _check_same_ports_kafka,
    _kafka_logs,
    _our_kafka_pid,
    _start_kafka,
    ensure_kafka_libs,
)
from deploy.stack.processes import (
    _alive,
    _file_lock,
    _holder,
    _kafka_answers,
    _port_open,
    _redis_answers,
    _tails,
    _unlink,
)
from deploy.stack.redis_server import (
    _check_same_port_redis,
    _our_redis_pid,
    _redis_logs,
    _start_redis,
    ensure_redis_server,
)


def status(cfg: StackConfig) -> list[ServiceStatus]:
    return [_kafka_status(cfg), _redis_status(cfg)]


def _kafka_status(cfg: StackConfig) -> ServiceStatus:
    pid = _our_kafka_pid(cfg)
    return ServiceStatus(
        name="kafka",
        running=_kafka_answers(cfg.kafka_port),
        pid=pid,
        address=cfg.kafka_address,
        started_by_us=pid is not None,
    )


def _redis_status(cfg: StackConfig) -> ServiceStatus:
    pid = _our_redis_pid(cfg)
    return ServiceStatus(
        name="redis",
        running=_redis_answers(cfg.redis_port),
        pid=pid,
        address=cfg.redis_address,
        started_by_us=pid is not None,
    )


# --------------------------------------------------------------------------- up


def up(cfg: StackConfig, timeout: float = 120.0) -> list[ServiceStatus]:
    """Start whatever is not running yet and wait until both answer.

    ``timeout`` covers waiting for the services to answer, not the one-off jar
    download and redis-server install (those have their own, longer limits).
    On failure, processes this call started are stopped again so that a failed
    ``up`` never leaves a half-started JVM behind.
    """
    cfg.root.mkdir(parents=True, exist_ok=True)
    with _file_lock(cfg.root / ".lock"):
        kafka_pid = _our_kafka_pid(cfg)
        redis_pid = _our_redis_pid(cfg)
        if kafka_pid is not None:
            _check_same_ports_kafka(cfg)
        if redis_pid is not None:
            _check_same_port_redis(cfg, redis_pid)
        start_kafka = kafka_pid is None and not _foreign_ok(
            "Kafka", cfg.kafka_port, _kafka_answers, extra_ports=(cfg.controller_port,)
        )
        start_redis = redis_pid is None and not _foreign_ok("Redis", cfg.redis_port, _redis_answers)

        # The cold-start prerequisites (Maven download, apt install) are independent
        # and each takes tens of seconds, so fetch them side by side.
        with ThreadPoolExecutor(max_workers=2) as pool:
            libs_f = pool.submit(ensure_kafka_libs) if start_kafka else None
            redis_f = pool.submit(ensure_redis_server) if start_redis else None
            libs = libs_f.result() if libs_f else None
            redis_server = redis_f.result() if redis_f else None

        started: list[tuple[int, Path]] = []  # (pid, pid file) of what this call starts
        try:
            kafka_alive = _pid_alive(kafka_pid)
            if libs is not None:
                proc = _start_kafka(cfg, libs)
                started.append((proc.pid, cfg.kafka_dir / "kafka.pid"))
                # poll() rather than _alive(): reaping it ourselves would lose the exit status.
                kafka_alive = lambda: proc.poll() is None  # noqa: E731
            redis_alive = _pid_alive(redis_pid)
            if redis_server is not None:
                pid = _start_redis(cfg, redis_server)
                started.append((pid, cfg.redis_dir / "redis.pid"))
                redis_alive = _pid_alive(pid)
            deadline = time.monotonic() + timeout
            _wait_for(
                "Redis", cfg.redis_port, _redis_answers, deadline, _redis_logs(cfg), redis_alive
            )
            _wait_for(
                "Kafka", cfg.kafka_port, _kafka_answers, deadline, _kafka_logs(cfg), kafka_alive
            )
        except BaseException:
            _terminate([pid for pid, _ in started], grace=5.0)
            for _, pidfile in started:
                _unlink(pidfile)
            raise
    return status(cfg)


def _pid_alive(pid: int | None) -> Callable[[], bool]:
    """Liveness check for a service we wait on; always true for someone else's."""
    if pid is None:
        return lambda: True
    return lambda: _alive(pid)


def _foreign_ok(
    what: str,
    port: int,
    answers: Callable[[int], bool],
    extra_ports: Sequence[int] = (),
) -> bool:
    """True if someone else's service already answers on ``port`` (so we use it).

    Raises if the port (or a port our process would also need) is held by
    something that is not a working service of that kind.
    """
    if _port_open(port):
        if answers(port):
            return True
        raise StackError(
            f"port {HOST}:{port} is already in use{_holder(port)} but does not answer as {what}. "
            f"Stop that process or choose another port (--kafka-port / --redis-port, "
            f"or STATFLOW_KAFKA_BOOTSTRAP / STATFLOW_REDIS_URL)."
        )
    for extra in extra_ports:
        if _port_open(extra):
            raise StackError(
                f"{what} needs port {HOST}:{extra} as well, but it is already in use"
                f"{_holder(extra)}. Stop that process or choose another port."
            )
    return False


def _wait_for(
    what: str,
    port: int,
    answers: Callable[[int], bool],
    deadline: float,
    logs: Sequence[Path],
    alive: Callable[[], bool],
) -> None:
    while True:
        if answers(port):
            return
        if not alive():
            raise StackError(f"{what} exited before answering on {HOST}:{port}.{_tails(logs)}")
        if time.monotonic() >= deadline:
            raise StackError(
                f"{what} did not answer on {HOST}:{port} in time; if the machine is just "
                f"slow, retry with a longer timeout.{_tails(logs)}"
            )
        time.sleep(_POLL)


# --------------------------------------------------------------------------- down


def down(cfg: StackConfig) -> list[ServiceStatus]:
    """Stop the processes this home started; leave anything else alone."""
    if not cfg.root.exists():
        return status(cfg)
    with _file_lock(cfg.root / ".lock"):
        kafka = _our_kafka_pid(cfg)
        redis = _our_redis_pid(cfg)
        # Both get SIGTERM at once; Kafka's controlled shutdown dominates the wait.
        _terminate([p for p in (kafka, redis) if p is not None], grace=KAFKA_STOP_GRACE)
        # Redis removes its own pid file on shutdown; a SIGKILLed one and ours don't.
        _unlink(cfg.kafka_dir / "kafka.pid")
        _unlink(cfg.redis_dir / "redis.pid")
    return status(cfg)


def _terminate(pids: Sequence[int], grace: float) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    pending = list(pids)
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if _alive(p)]
        if pending:
            time.sleep(_POLL)
    for pid in pending:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 5
    while any(_alive(p) for p in pending) and time.monotonic() < end:
        time.sleep(_POLL)
