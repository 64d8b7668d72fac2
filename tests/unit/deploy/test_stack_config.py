"""The pure half of deploy/stack/: ports and paths derived from Settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError, StackError
from core.settings import Settings
from deploy.stack import ServiceStatus, StackConfig, server_properties


def test_defaults_match_settings_defaults() -> None:
    cfg = StackConfig.from_settings(Settings())
    assert (cfg.kafka_port, cfg.controller_port, cfg.redis_port) == (9092, 9093, 6379)
    assert cfg.home == Path(".statflow")
    assert cfg.root == Path(".statflow/stack").resolve()
    assert cfg.kafka_dir == cfg.root / "kafka"
    assert cfg.redis_dir == cfg.root / "redis"


def test_ports_come_from_bootstrap_and_redis_url(tmp_path: Path) -> None:
    s = Settings(
        home=tmp_path,
        kafka_bootstrap="localhost:19192",
        redis_url="redis://127.0.0.1:16479/3",
    )
    cfg = StackConfig.from_settings(s)
    assert (cfg.home, cfg.kafka_port, cfg.controller_port, cfg.redis_port) == (
        tmp_path,
        19192,
        19193,
        16479,
    )
    assert cfg.kafka_address == "127.0.0.1:19192"
    assert cfg.redis_address == "127.0.0.1:16479"


@pytest.mark.parametrize(
    ("bootstrap", "port"),
    [
        ("localhost:9092", 9092),
        ("127.0.0.1:29092", 29092),
        ("localhost", 9092),
        ("kafka://localhost:19092", 19092),
        ("PLAINTEXT://localhost:19092", 19092),
        ("[::1]:19092", 19092),
        ("localhost:19092,localhost:19094", 19092),  # single broker: the first one counts
        (" localhost:19092 ", 19092),
    ],
)
def test_bootstrap_forms(bootstrap: str, port: int) -> None:
    assert StackConfig.from_settings(Settings(kafka_bootstrap=bootstrap)).kafka_port == port


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("redis://localhost:6379/0", 6379),
        ("redis://localhost/0", 6379),
        ("redis://:secret@localhost:16380", 16380),
        ("rediss://127.0.0.1:16381/1", 16381),
    ],
)
def test_redis_url_forms(url: str, port: int) -> None:
    assert StackConfig.from_settings(Settings(redis_url=url)).redis_port == port


@pytest.mark.parametrize("bootstrap", ["localhost:abc", "", "localhost:0"])
def test_malformed_bootstrap_is_a_config_error(bootstrap: str) -> None:
    with pytest.raises(ConfigError):
        StackConfig.from_settings(Settings(kafka_bootstrap=bootstrap))


@pytest.mark.parametrize("url", ["redis://localhost:port/0", "unix:///tmp/redis.sock", "x"])
def test_malformed_redis_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        StackConfig.from_settings(Settings(redis_url=url))


def test_remote_hosts_are_refused() -> None:
    # The local stack would start here while the app talks to the remote host.
    with pytest.raises(StackError, match="kafka.example.org"):
        StackConfig.from_settings(Settings(kafka_bootstrap="kafka.example.org:9092"))
    with pytest.raises(StackError, match="cache.example.org"):
        StackConfig.from_settings(Settings(redis_url="redis://cache.example.org:6379/0"))


def test_controller_port_follows_kafka_port_unless_given(tmp_path: Path) -> None:
    assert StackConfig(tmp_path).controller_port == 9093
    assert StackConfig(tmp_path, kafka_port=19192).controller_port == 19193
    assert StackConfig(tmp_path, kafka_port=19192, controller_port=19999).controller_port == 19999


@pytest.mark.parametrize(
    "ports",
    [
        {"kafka_port": 70000},
        {"redis_port": -1},
        {"kafka_port": 9092, "redis_port": 9093},  # clashes with the derived controller port
        {"kafka_port": 9092, "controller_port": 9092},
    ],
)
def test_bad_ports_are_refused(tmp_path: Path, ports: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        StackConfig(tmp_path, **ports)


def test_server_properties(tmp_path: Path) -> None:
    cfg = StackConfig(tmp_path, kafka_port=19192)
    props = dict(
        line.split("=", 1)
        for line in server_properties(cfg).splitlines()
        if line and not line.startswith("#")
    )
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:19193"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19192,CONTROLLER://127.0.0.1:19193"
    assert props["log.dirs"] == str(cfg.kafka_dir / "data")
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert int(props["message.max.bytes"]) >= 2_000_000


def test_status_line() -> None:
    line = str(ServiceStatus("kafka", True, 123, "127.0.0.1:9092", True))
    assert line.split()[:4] == ["kafka", "running", "127.0.0.1:9092", "pid=123"]
    assert "not ours" in str(ServiceStatus("redis", True, None, "127.0.0.1:6379", False))
