"""Crash windows of the sink, on real chDB: the process dies after the raw
insert but before a view's insert, or before the checkpoint. `resume` must
make every rollup exact, and nothing may be counted twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from agents.batch import Decoded, RawMessage
from schemas.events import NtjpCall
from sinks.calls import CALLS_TABLE
from sinks.clickhouse import ClickHouseStore
from sinks.events import EventSink
from sinks.migrate import migrate
from streams.settings import Settings

TOPIC = "t.ntjp.calls.v1"


@pytest.fixture
def store(tmp_path: Path) -> ClickHouseStore:
    s = ClickHouseStore(Settings(home=tmp_path, clickhouse_database="repair"))
    migrate(s)
    return s


def batch(start: int, n: int) -> Decoded[NtjpCall]:
    out: Decoded[NtjpCall] = Decoded(TOPIC, 0, start + n, start)
    for i in range(start, start + n):
        # spans two UTC months and a Stockholm midnight: several blocks per batch
        when = dt.datetime(2024, 3, 31, 21, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=7 * i)
        call = NtjpCall(f"e{i}", when, "MakeBooking", f"SE-U{i % 3}")
        out.accepted.append((RawMessage(TOPIC, 0, i, None, None), call))
    return out


def totals(store: ClickHouseStore) -> tuple[int, int, int]:
    raw = store.query_rows("SELECT count() FROM ntjp_calls")[0][0]
    daily = store.query_rows("SELECT sum(calls) FROM ntjp_calls_daily")[0][0]
    seen = store.query_rows("SELECT count() FROM ntjp_calls_seen")[0][0]
    return int(raw), int(daily), int(seen)


def test_view_missed_by_a_crash_is_filled_in_by_resume(store: ClickHouseStore) -> None:
    sink = EventSink(store, CALLS_TABLE)
    sink.write(batch(0, 40), {})
    sink.checkpoints.put(TOPIC, 0, 40)
    # The crash: raw rows of the next batch land, the rollup view's part does not.
    store.command("DETACH TABLE ntjp_calls_daily_mv")
    sink.write(batch(40, 60), {})
    store.command("ATTACH TABLE ntjp_calls_daily_mv")
    assert totals(store) == (100, 40, 100)

    assert sink.resume(TOPIC, 0) == 100
    assert totals(store) == (100, 100, 100)
    assert sink.resume(TOPIC, 0) == 100  # idempotent
    assert totals(store) == (100, 100, 100)


def test_checkpoint_lost_after_everything_landed_counts_once(store: ClickHouseStore) -> None:
    sink = EventSink(store, CALLS_TABLE)
    sink.write(batch(0, 50), {})  # no checkpoint: the crash came just before it
    assert sink.resume(TOPIC, 0) == 50
    assert totals(store) == (50, 50, 50)
    # Kafka re-delivers the batch anyway (e.g. from its lagging commit)
    redelivered = batch(0, 50)
    assert sink.write(redelivered, {}) == 0 and redelivered.duplicates == 50
    assert totals(store) == (50, 50, 50)
    daily = store.query_rows(
        "SELECT day, sum(calls) FROM ntjp_calls_daily GROUP BY day ORDER BY day"
    )
    # 21:00Z on 31 March is 23:00 in Stockholm (CEST): the first 9 calls are in March
    assert daily[0] == (dt.date(2024, 3, 31), 9)
