"""Readers do not wait behind ingest, on real chDB: while a long report query
runs, a batch goes through the sink (seen-id lookup, raw insert, rollup views)
and is in before that query ends. Ordering, not timing: the batch must be
written while ClickHouse still lists the query as running (system.processes,
read on a connection of the test's own); then the query is killed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client

from core.errors import SinkError
from core.settings import Settings
from sinks.clickhouse import ClickHouseStore
from sinks.events import EventSink
from sinks.migrate import migrate
from sinks.ntjp import CALLS_TABLE
from tests.integration.test_crash_repair import batch, totals

# 20 blocks of one row, one second each: long enough for any insert on a busy
# machine, and it is killed as soon as the test has its answer.
LONG = "SELECT /* long report */ sum(sleepEachRow(1)) FROM numbers(20) SETTINGS max_block_size=1"
# The marker is assembled in SQL so this probe never lists itself.
RUNNING = (
    "SELECT query_id FROM system.processes "
    "WHERE position(query, concat('long ', 'report')) > 0 "
    "AND position(query, 'system.processes') = 0"
)


@pytest.fixture
def stores(store_settings: Callable[..., Settings]) -> Iterator[tuple[ClickHouseStore, Client]]:
    settings = store_settings("readers")
    store = ClickHouseStore(settings)
    probe = None
    try:
        migrate(store)
        probe = clickhouse_connect.get_client(dsn=settings.dsn)
        yield store, probe
    finally:
        if probe is not None:
            probe.close()
        store.close()


def running(probe: Client) -> list[str]:
    return [str(r[0]) for r in probe.query(RUNNING).result_rows]


def in_background(call: Callable[[], Any]) -> threading.Thread:
    def run() -> None:
        try:
            call()
        except SinkError:
            pass  # killed below
        except Exception as exc:  # noqa: BLE001 - chDB's own error for a killed query
            if "cancel" not in str(exc).lower():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def chhttp_read(store: ClickHouseStore) -> None:
    # What web/chhttp runs for a SELECT of a SQL reader.
    with store.engine_session(read=True) as conn:
        conn.query(LONG, "TabSeparated")


READS: dict[str, Callable[[ClickHouseStore], Any]] = {
    "report": lambda store: store.query_rows(LONG),  # what reports/engine.py calls
    "chhttp": chhttp_read,
}


@pytest.mark.parametrize("read", sorted(READS))
def test_a_batch_is_written_while_a_long_read_runs(
    stores: tuple[ClickHouseStore, Client], read: str
) -> None:
    store, probe = stores
    if read == "chhttp" and not store.embedded:
        pytest.skip("the ClickHouse HTTP front serves chDB only")
    sink = EventSink(store, CALLS_TABLE)
    sink.write(batch(0, 10), {})  # the sink's first calls (probe table) are done
    reader = in_background(lambda: READS[read](store))
    deadline = time.monotonic() + 60
    while not running(probe):
        assert time.monotonic() < deadline, "the long read never started"
        time.sleep(0.02)
    try:
        written = sink.write(batch(10, 50), {})
        sink.checkpoints.put(batch(10, 50).topic, 0, 60)
        still_running = running(probe)
    finally:
        for query_id in running(probe):
            probe.command("KILL QUERY WHERE query_id = {q:String} SYNC", parameters={"q": query_id})
        reader.join(60)
    assert written == 50
    assert still_running, "the batch waited for the read to end"
    assert totals(store) == (60, 60, 60)


def test_a_closed_store_refuses_reads(stores: tuple[ClickHouseStore, Client]) -> None:
    store, _ = stores
    assert store.query_rows("SELECT 1") == [(1,)]
    store.close()
    with pytest.raises(SinkError, match="closed"):
        store.query_rows("SELECT 1")
