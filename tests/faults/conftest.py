"""The fault suite: real Kafka, Redis and ClickHouse (chDB, or containers under
`make test-docker`), faults injected from outside (SIGKILL, stopping the broker
or Redis) or at named points (STATFLOW_FAULTS).

`make test` runs the short version; `make faults` (STATFLOW_FAULTS_FULL=1) the
full one and writes bench/results/faults.json: scenarios, events, lost,
duplicated.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import (  # noqa: F401
    local_stack,
    service_provider,
    services,
    settings,
    statflow,
)
from tests.integration.harness import ROOT

FULL = os.environ.get("STATFLOW_FAULTS_FULL") == "1"
RESULTS: list[dict[str, Any]] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def results_file() -> Iterator[None]:
    yield
    if not RESULTS:
        return
    out = ROOT / ("bench/results/faults.json" if FULL else "build/faults-short.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    body = {"suite": "full" if FULL else "short", "machine": platform.node(),
            "python": platform.python_version(), "scenarios": RESULTS}  # fmt: skip
    out.write_text(json.dumps(body, indent=2, default=str) + "\n", encoding="utf-8")


def record(name: str, events: int, want: dict[str, int], got: dict[str, int], **extra: Any) -> None:
    lost = sum(max(want.get(k, 0) - got.get(k, 0), 0) for k in set(want) | set(got))
    dup = sum(max(got.get(k, 0) - want.get(k, 0), 0) for k in set(want) | set(got))
    RESULTS.append({"scenario": name, "events": events, "lost": lost, "duplicated": dup, **extra})
