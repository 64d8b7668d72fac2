"""Really starts Kafka and Redis (deploy/stack/) on free ports under a tmp home.

Cold (no deploy/kafka/libs, no redis-server) this downloads ~43 MB of jars with
Maven and apt-installs redis-server first; warm it takes a few seconds.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from deploy.stack import ServiceStatus, StackConfig, down, status, up
from tests.services import wants_docker

pytestmark = [
    pytest.mark.integration,
    # The docker provider replaces this tool (and needs no Java or redis-server);
    # `make test` runs these.
    pytest.mark.skipif(
        wants_docker(os.environ), reason="tests the local stack tool (docker provider)"
    ),
]


def _free_ports(n: int) -> list[int]:
    """`n` distinct ports free right now: held together while chosen, so that
    two pytest workers (or a stack already running) never get the same."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


KAFKA_PORT, CONTROLLER_PORT, REDIS_PORT = _free_ports(3)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _by_name(statuses: list[ServiceStatus]) -> dict[str, ServiceStatus]:
    return {s.name: s for s in statuses}


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> StackConfig:
    return StackConfig(
        home=tmp_path_factory.mktemp("stack-home"),
        kafka_port=KAFKA_PORT,
        controller_port=CONTROLLER_PORT,
        redis_port=REDIS_PORT,
    )


@pytest.fixture(scope="module")
def started(cfg: StackConfig) -> Iterator[dict[str, ServiceStatus]]:
    for port in (KAFKA_PORT, CONTROLLER_PORT, REDIS_PORT):
        if _port_open(port):
            pytest.fail(f"port {port} is already in use; this test needs it free")
    try:
        yield _by_name(up(cfg, timeout=180))
    finally:
        down(cfg)  # also when a test failed half-way; a no-op after test_down


def test_up_starts_both(started: dict[str, ServiceStatus]) -> None:
    for name in ("kafka", "redis"):
        s = started[name]
        assert s.running and s.started_by_us and s.pid is not None, s
    assert started["kafka"].address == f"127.0.0.1:{KAFKA_PORT}"
    assert started["redis"].address == f"127.0.0.1:{REDIS_PORT}"


async def test_kafka_round_trip(started: dict[str, ServiceStatus]) -> None:
    topic = f"stack-test-{uuid.uuid4().hex[:8]}"  # auto-created on first produce
    bootstrap = f"localhost:{KAFKA_PORT}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{topic}-group",  # exercises the group coordinator, as faust will
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        msg = await consumer.getone()
    finally:
        await consumer.stop()
    assert (msg.key, msg.value) == (b"k", b"hello")


def test_redis_ping(started: dict[str, ServiceStatus]) -> None:
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    try:
        assert client.ping() is True
        # A throwaway cache: nothing may be persisted to disk.
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
    finally:
        client.close()


def test_up_again_is_a_no_op(cfg: StackConfig, started: dict[str, ServiceStatus]) -> None:
    again = _by_name(up(cfg, timeout=30))
    assert {n: s.pid for n, s in again.items()} == {n: s.pid for n, s in started.items()}
    assert all(s.running and s.started_by_us for s in again.values())


def test_status(cfg: StackConfig, started: dict[str, ServiceStatus]) -> None:
    assert _by_name(status(cfg)) == started


def test_down_stops_both_and_frees_the_ports(
    cfg: StackConfig, started: dict[str, ServiceStatus]
) -> None:
    after = _by_name(down(cfg))
    for name in ("kafka", "redis"):
        s = after[name]
        assert not s.running and s.pid is None and not s.started_by_us, s
    for port in (KAFKA_PORT, CONTROLLER_PORT, REDIS_PORT):
        assert not _port_open(port), port
    assert not (cfg.kafka_dir / "kafka.pid").exists()
    assert _by_name(down(cfg)) == after  # stopping a stopped stack is fine too
