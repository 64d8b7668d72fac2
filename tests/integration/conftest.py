"""Integration fixtures: the real local stack (Kafka KRaft + redis-server), started
once per session; each test gets its own topics, consumer group, ClickHouse
database and chDB path, so tests never see each other's data."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy import stack
from streams.settings import Settings
from tests.integration.harness import StatflowProcess

ROOT = Path(__file__).resolve().parents[2]
KAFKA_PORT = int(os.environ.get("STATFLOW_TEST_KAFKA_PORT", "19092"))
REDIS_PORT = int(os.environ.get("STATFLOW_TEST_REDIS_PORT", "16379"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[stack.StackConfig]:
    cfg = stack.StackConfig(ROOT / ".statflow" / "test-stack", KAFKA_PORT, redis_port=REDIS_PORT)
    stack.up(cfg)
    yield cfg
    stack.down(cfg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings(local_stack: stack.StackConfig, tmp_path: Path) -> Settings:
    tag = uuid.uuid4().hex[:10]
    return Settings(
        home=tmp_path / "home",
        kafka_bootstrap=f"127.0.0.1:{local_stack.kafka_port}",
        clickhouse_database=f"sf_{tag}",
        redis_url=f"redis://127.0.0.1:{local_stack.redis_port}/0",
        topic_prefix=f"t{tag}.",
        consumer_group=f"sf-{tag}",
        http_port=free_port(),
        batch_timeout_ms=100,
        clickhouse_http_port=0,  # a fixed 8123 would clash between parallel runs
    )


@pytest.fixture
def statflow(settings: Settings, tmp_path: Path) -> Iterator[StatflowProcess]:
    proc = StatflowProcess(settings, tmp_path / "statflow.log")
    yield proc
    proc.stop()
