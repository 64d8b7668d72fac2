"""The embedded store's reader places (sinks/clickhouse.READERS) are taken once
per thread. The HTTP interface reads the store's databases from inside its own
read session; when every place was held by such a request, each waited for a
second place forever (`statflow store` hung under two workers' reads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from core.settings import Settings
from sinks.clickhouse import READERS, ClickHouseStore


@pytest.fixture
def store(store_settings: Callable[..., Settings]) -> Iterator[ClickHouseStore]:
    s = ClickHouseStore(store_settings("slots"))
    try:
        yield s
    finally:
        s.close()


def test_a_read_inside_a_read_session_never_waits_for_a_second_place(
    store: ClickHouseStore,
) -> None:
    if not store.embedded:
        pytest.skip("reader places are the embedded store's")
    inside = threading.Barrier(READERS, timeout=30)
    done: list[int] = []

    def request() -> None:
        with store.engine_sessions(True, 2):
            inside.wait()  # every place is held now
            done.append(store.query_rows("SELECT 1")[0][0])

    threads = [threading.Thread(target=request, daemon=True) for _ in range(READERS * 3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert done == [1] * len(threads), "requests stuck waiting for a second reader place"
