"""Where the integration tests get Kafka, Redis and ClickHouse from: one provider.

- local (default): the project's own stack (deploy/stack/: Kafka KRaft from
  Maven Central jars, redis-server), and ClickHouse is chDB, one per test under
  its tmp home. No Docker.
- docker (`STATFLOW_TEST_DOCKER=1`, `make test-docker`): containers started
  with testcontainers: Kafka in KRaft mode, `clickhouse/clickhouse-server` and
  Redis. ClickHouse is then a real server at an http:// DSN, and every test
  gets a database of its own on it. With the variable set and no Docker engine
  answering, the provider fails: a run that asked for containers must not
  quietly test chDB instead.

Containers start on first use, so a test that needs only ClickHouse starts
only ClickHouse. testcontainers is imported only here and only for docker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from deploy import stack

ENV = "STATFLOW_TEST_DOCKER"
# KRaft (no ZooKeeper); testcontainers' Kafka module drives Confluent's image,
# which sets advertised listeners to the mapped port for us.
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"
CLICKHOUSE_IMAGE = "clickhouse/clickhouse-server:25.8"  # as in docker-compose.yml
REDIS_IMAGE = "redis:7"
CLICKHOUSE_USER = CLICKHOUSE_PASSWORD = "statflow"
# As the local broker (deploy/stack/): 1 MB payloads must reach the DLQ.
KAFKA_ENV = {
    "KAFKA_MESSAGE_MAX_BYTES": str(stack.MESSAGE_MAX_BYTES),
    "KAFKA_REPLICA_FETCH_MAX_BYTES": str(stack.MESSAGE_MAX_BYTES),
    "KAFKA_NUM_PARTITIONS": "4",
    "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "true",
    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
}


class ProviderError(RuntimeError):
    """The services asked for cannot be had; the message says what to do."""


@dataclass(frozen=True)
class Services:
    kafka_bootstrap: str
    redis_url: str
    clickhouse_dsn: str | None  # None: each test opens its own chDB


class Provider(Protocol):
    name: str

    def clickhouse_dsn(self) -> str | None: ...

    def services(self) -> Services: ...

    def close(self) -> None: ...


def wants_docker(env: Mapping[str, str]) -> bool:
    raw = env.get(ENV, "").strip()
    if raw in ("", "0"):
        return False
    if raw == "1":
        return True
    raise ProviderError(f"{ENV} must be 1 (containers) or 0/unset (local stack), got {raw!r}")


def docker_problem() -> str | None:
    """Why no Docker engine can be used here, or None when one answers."""
    try:
        import docker
    except ImportError:
        return "the docker package is missing: pip install -e '.[dev]' (testcontainers)"
    try:
        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means: no engine to use
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    return None


# `make test` runs pytest-xdist workers (gw0, gw1, ...), each with a local stack
# of its own: worker n adds n x 1000 to both ports (Kafka's controller is its
# port + 1) and keeps the stack under test-stack-gw<n>.
WORKER_PORT_STEP = 1000


def xdist_worker(env: Mapping[str, str]) -> int:
    """This pytest-xdist worker's number (gw<n>); 0 outside xdist."""
    name = env.get("PYTEST_XDIST_WORKER", "")
    if not name:
        return 0
    if not (name.startswith("gw") and name[2:].isdigit()):
        raise ProviderError(f"PYTEST_XDIST_WORKER is {name!r}, expected gw<number>")
    return int(name[2:])


def provider(
    env: Mapping[str, str] | None = None,
    root: Path | None = None,
    problem: Callable[[], str | None] = docker_problem,
) -> Provider:
    env = os.environ if env is None else env
    root = root or Path(__file__).resolve().parents[1]
    if not wants_docker(env):
        n = xdist_worker(env)
        return LocalProvider(
            stack.StackConfig(
                root / ".statflow" / ("test-stack" if n == 0 else f"test-stack-gw{n}"),
                int(env.get("STATFLOW_TEST_KAFKA_PORT", "19092")) + WORKER_PORT_STEP * n,
                redis_port=int(env.get("STATFLOW_TEST_REDIS_PORT", "16379")) + WORKER_PORT_STEP * n,
            )
        )
    why = problem()
    if why is not None:
        raise ProviderError(
            f"{ENV}=1 asks for Kafka, ClickHouse and Redis in containers, but no Docker "
            f"engine answers ({why}). Start Docker (or set DOCKER_HOST), or unset {ENV} "
            "to test against the local stack and chDB."
        )
    return DockerProvider()


@dataclass
class LocalProvider:
    stack_config: stack.StackConfig
    name: str = "local"
    _up: bool = False

    def clickhouse_dsn(self) -> str | None:
        return None  # chDB needs no service

    def services(self) -> Services:
        if not self._up:
            stack.up(self.stack_config)
            self._up = True
        cfg = self.stack_config
        return Services(
            f"127.0.0.1:{cfg.kafka_port}", f"redis://127.0.0.1:{cfg.redis_port}/0", None
        )

    def close(self) -> None:
        if self._up:
            stack.down(self.stack_config)


def _kafka() -> Any:
    from testcontainers.community.kafka import KafkaContainer

    c = KafkaContainer(KAFKA_IMAGE).with_kraft()
    for k, v in KAFKA_ENV.items():
        c.with_env(k, v)
    return c.start(timeout=180)


def _clickhouse() -> Any:
    from testcontainers.community.clickhouse import ClickHouseContainer

    c = ClickHouseContainer(
        CLICKHOUSE_IMAGE, username=CLICKHOUSE_USER, password=CLICKHOUSE_PASSWORD, dbname="statflow"
    )
    return c.start()


def _redis() -> Any:
    from testcontainers.community.redis import RedisContainer

    return RedisContainer(REDIS_IMAGE).start()


@dataclass
class DockerProvider:
    name: str = "docker"
    # kind -> a function that starts its container (replaced in unit tests)
    starters: dict[str, Callable[[], Any]] = field(
        default_factory=lambda: {"clickhouse": _clickhouse, "kafka": _kafka, "redis": _redis}
    )
    started: dict[str, Any] = field(default_factory=dict)

    def _get(self, kind: str) -> Any:
        if kind not in self.started:
            self.started[kind] = self.starters[kind]()
        return self.started[kind]

    def clickhouse_dsn(self) -> str | None:
        c = self._get("clickhouse")
        host, port = c.get_container_host_ip(), c.get_exposed_port(8123)
        return f"http://{CLICKHOUSE_USER}:{CLICKHOUSE_PASSWORD}@{host}:{port}"

    def services(self) -> Services:
        dsn = self.clickhouse_dsn()
        redis = self._get("redis")
        redis_url = f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"
        return Services(self._get("kafka").get_bootstrap_server(), redis_url, dsn)

    def close(self) -> None:
        for kind in reversed(list(self.started)):
            self.started.pop(kind).stop()
