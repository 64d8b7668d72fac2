"""Integration fixtures: Kafka, Redis and ClickHouse from one provider
(tests/services.py): the real local stack (Kafka KRaft + redis-server, chDB per
test) by default, or containers with STATFLOW_TEST_DOCKER=1 (`make
test-docker`). Either way each test gets its own topics, consumer group and
ClickHouse database (and chDB path), so tests never see each other's data."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from deploy import stack
from sinks.clickhouse import ClickHouseStore
from sinks.migrate import migrate
from tests import services as provided
from tests.integration.harness import StatflowProcess

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def service_provider() -> Iterator[provided.Provider]:
    p = provided.provider(root=ROOT)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture(scope="session")
def services(service_provider: provided.Provider) -> provided.Services:
    return service_provider.services()


@pytest.fixture(scope="session")
def local_stack(service_provider: provided.Provider) -> stack.StackConfig:
    """The local stack itself, for tests that kill and restart its processes."""
    if not isinstance(service_provider, provided.LocalProvider):
        pytest.skip("kills the local stack's Kafka and Redis processes (docker provider)")
    service_provider.services()
    return service_provider.stack_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings(services: provided.Services, tmp_path: Path) -> Settings:
    tag = uuid.uuid4().hex[:10]
    return Settings(
        home=tmp_path / "home",
        kafka_bootstrap=services.kafka_bootstrap,
        clickhouse_dsn=services.clickhouse_dsn or "",
        clickhouse_database=f"sf_{tag}",
        redis_url=services.redis_url,
        topic_prefix=f"t{tag}.",
        consumer_group=f"sf-{tag}",
        http_port=free_port(),
        batch_timeout_ms=100,
        # The broker's minimum: a SIGKILLed worker's partitions (and Faust's)
        # move 4 s sooner than with the default 10 s, and the suite kills a
        # worker some twenty times. No test depends on the length itself.
        kafka_session_timeout_ms=6000,
        clickhouse_http_port=0,  # a fixed 8123 would clash between parallel runs
        # every request of a test comes from 127.0.0.1; tests of the limit turn it on
        rate_limit_requests=0,
    )


@pytest.fixture
def store_settings(service_provider: provided.Provider, tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test that needs ClickHouse only (no Kafka, no Redis):
    chDB under `home` locally; on a server, a database of its own."""

    def make(database: str, home: Path | None = None) -> Settings:
        dsn = service_provider.clickhouse_dsn()
        home = home or tmp_path
        if dsn is None:
            return Settings(home=home, clickhouse_database=database)
        db = f"{database}_{uuid.uuid4().hex[:8]}"
        return Settings(home=home, clickhouse_dsn=dsn, clickhouse_database=db)

    return make


@pytest.fixture
def migrated_store(store_settings: Callable[..., Settings]) -> Iterator[ClickHouseStore]:
    """A migrated store of the test's own (ClickHouse only: no Kafka, no Redis)."""
    s = ClickHouseStore(store_settings("store"))
    try:
        migrate(s)
        yield s
    finally:
        s.close()


@pytest.fixture
def statflow(settings: Settings, tmp_path: Path) -> Iterator[StatflowProcess]:
    proc = StatflowProcess(settings, tmp_path / "statflow.log")
    yield proc
    proc.stop()
