"""The integration suite's service provider (tests/services.py): which one the
environment chooses, the clear failure without a Docker engine, and lazy
containers. No Docker is needed (none exists on the development machines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import services as provided


def no_engine() -> str:
    return "ConnectionError: ('Connection aborted.', FileNotFoundError(2, 'No such file'))"


def engine() -> None:
    return None


def boom() -> str:
    raise AssertionError("the local provider must not look for Docker")


@pytest.mark.parametrize("env", [{}, {"STATFLOW_TEST_DOCKER": ""}, {"STATFLOW_TEST_DOCKER": "0"}])
def test_local_stack_by_default(env: dict[str, str], tmp_path: Path) -> None:
    p = provided.provider({**env, "STATFLOW_TEST_KAFKA_PORT": "42092"}, tmp_path, boom)
    assert isinstance(p, provided.LocalProvider) and p.name == "local"
    assert p.stack_config.kafka_port == 42092
    assert p.stack_config.home == tmp_path / ".statflow" / "test-stack"
    assert p.clickhouse_dsn() is None  # chDB per test: no service, nothing started


def test_each_xdist_worker_gets_its_own_ports_and_home(tmp_path: Path) -> None:
    env = {"STATFLOW_TEST_KAFKA_PORT": "42092", "STATFLOW_TEST_REDIS_PORT": "42379"}
    configs = []
    for w in ("gw0", "gw1", "gw2"):
        p = provided.provider({**env, "PYTEST_XDIST_WORKER": w}, tmp_path, boom)
        assert isinstance(p, provided.LocalProvider)
        configs.append(p.stack_config)
    assert [c.kafka_port for c in configs] == [42092, 43092, 44092]
    assert [c.controller_port for c in configs] == [42093, 43093, 44093]
    assert [c.redis_port for c in configs] == [42379, 43379, 44379]
    assert configs[0].home == tmp_path / ".statflow" / "test-stack"  # as without xdist
    assert len({c.home for c in configs}) == 3
    with pytest.raises(provided.ProviderError, match="PYTEST_XDIST_WORKER"):
        provided.provider({"PYTEST_XDIST_WORKER": "main"}, tmp_path, boom)


def test_docker_when_asked_and_an_engine_answers(tmp_path: Path) -> None:
    p = provided.provider({"STATFLOW_TEST_DOCKER": "1"}, tmp_path, engine)
    assert isinstance(p, provided.DockerProvider) and p.name == "docker"
    assert p.started == {}  # nothing starts before a test needs it


def test_docker_asked_without_an_engine_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(provided.ProviderError) as err:
        provided.provider({"STATFLOW_TEST_DOCKER": "1"}, tmp_path, no_engine)
    text = str(err.value)
    assert "STATFLOW_TEST_DOCKER=1" in text and "no Docker engine answers" in text
    assert "FileNotFoundError" in text and "unset STATFLOW_TEST_DOCKER" in text


@pytest.mark.parametrize("raw", ["yes", "true", "2"])
def test_an_unclear_value_is_refused(raw: str, tmp_path: Path) -> None:
    with pytest.raises(provided.ProviderError, match="must be 1"):
        provided.provider({"STATFLOW_TEST_DOCKER": raw}, tmp_path, engine)


def test_the_real_probe_decides(tmp_path: Path) -> None:
    """The real engine probe (no engine on the development machines): its
    reason reaches the error; where an engine answers, containers are chosen."""
    why = provided.docker_problem()
    if why is None:
        assert isinstance(
            provided.provider({"STATFLOW_TEST_DOCKER": "1"}, tmp_path), provided.DockerProvider
        )
        return
    assert why.strip()
    with pytest.raises(provided.ProviderError) as err:
        provided.provider({"STATFLOW_TEST_DOCKER": "1"}, tmp_path)
    assert why in str(err.value)


class FakeContainer:
    def __init__(self, kind: str, log: list[str]) -> None:
        self.kind, self.log = kind, log
        log.append(f"start {kind}")

    def get_container_host_ip(self) -> str:
        return "docker-host"

    def get_exposed_port(self, port: int) -> int:
        return {8123: 32001, 6379: 32002}[port]

    def get_bootstrap_server(self) -> str:
        return "docker-host:32003"

    def stop(self) -> None:
        self.log.append(f"stop {self.kind}")


def test_containers_start_when_first_needed_and_stop_in_reverse() -> None:
    log: list[str] = []
    kinds = ("clickhouse", "kafka", "redis")
    starters: dict[str, Any] = {k: (lambda k=k: FakeContainer(k, log)) for k in kinds}
    p = provided.DockerProvider(starters=starters)
    assert p.clickhouse_dsn() == "http://statflow:statflow@docker-host:32001"
    assert log == ["start clickhouse"]  # a ClickHouse-only test starts nothing else
    s = p.services()
    assert s == provided.Services(
        "docker-host:32003",
        "redis://docker-host:32002/0",
        "http://statflow:statflow@docker-host:32001",
    )
    p.services()  # started once per session
    assert log == ["start clickhouse", "start redis", "start kafka"]
    p.close()
    assert log[3:] == ["stop kafka", "stop redis", "stop clickhouse"]
