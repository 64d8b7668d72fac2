"""Crash windows of the sink, on real chDB: the process dies after the raw
insert but before a view's insert, or before the checkpoint. `resume` must
make every rollup exact, and nothing may be counted twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.errors import SinkError
from core.settings import Settings
from schemas.events import NtjpCall
from schemas.pipeline import Decoded, RawMessage
from sinks.clickhouse import ClickHouseStore
from sinks.events import EventSink
from sinks.migrate import migrate
from sinks.ntjp import CALLS_TABLE

TOPIC = "t.ntjp.calls.v1"


@pytest.fixture
def store(store_settings: Callable[..., Settings]) -> Iterator[ClickHouseStore]:
    s = ClickHouseStore(store_settings("repair"))
    try:
        migrate(s)
        yield s
    finally:
        s.close()


def batch(start: int, n: int, late_every: int = 0) -> Decoded[NtjpCall]:
    out: Decoded[NtjpCall] = Decoded(TOPIC, 0, start + n, start)
    for i in range(start, start + n):
        # spans two UTC months and a Stockholm midnight: several blocks per batch
        when = dt.datetime(2024, 3, 31, 21, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=7 * i)
        if late_every and i % late_every == 0:
            when -= dt.timedelta(days=40)  # a late event: an earlier month, a later offset
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

    assert sink.resume(TOPIC, 0) == 40  # read again from the checkpoint
    assert totals(store) == (100, 100, 100)
    assert sink.resume(TOPIC, 0) == 40  # idempotent
    assert totals(store) == (100, 100, 100)
    again = batch(40, 60)  # what Kafka delivers from the checkpoint
    assert sink.write(again, {}) == 0 and again.duplicates == 60
    assert totals(store) == (100, 100, 100)


def test_checkpoint_lost_after_everything_landed_counts_once(store: ClickHouseStore) -> None:
    sink = EventSink(store, CALLS_TABLE)
    sink.write(batch(0, 50), {})  # no checkpoint: the crash came just before it
    assert sink.resume(TOPIC, 0) == 0
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


def test_crash_between_month_blocks_loses_nothing(store: ClickHouseStore) -> None:
    """Month blocks are written in month order while offsets interleave: a crash
    after the first block must not make resume skip the offsets of the others."""
    sink = EventSink(store, CALLS_TABLE)
    crashed = batch(0, 90, late_every=4)  # February (late), March and April rows
    real = store.insert_arrow  # the sink's raw blocks go in as Arrow
    calls = []

    def die_after_first(table: str, data: Any, settings: Any = None) -> None:
        calls.append(table)
        if calls.count("ntjp_calls") > 1:
            raise SinkError("the process died here")
        real(table, data, settings)

    store.insert_arrow = die_after_first  # type: ignore[method-assign]
    with pytest.raises(SinkError):
        sink.write(crashed, {})
    store.insert_arrow = real  # type: ignore[method-assign]
    raw = totals(store)[0]
    assert 0 < raw < 90, "only the first month block landed"

    assert sink.resume(TOPIC, 0) == 0
    again = batch(0, 90, late_every=4)
    assert sink.write(again, {}) == 90 - raw and again.duplicates == raw
    assert totals(store) == (90, 90, 90)


def test_a_view_that_missed_a_block_of_two_partitions_gets_all_of_it(
    store: ClickHouseStore,
) -> None:
    """One getmany's partitions share their blocks: resuming either partition
    puts the whole block in again, so a view that missed it counts the other
    partition's rows too, and resuming the other changes nothing more."""
    sink = EventSink(store, CALLS_TABLE)

    def part(p: int) -> Decoded[NtjpCall]:
        b = batch(100 * p, 30)
        b.partition = p
        b.accepted = [(RawMessage(TOPIC, p, m.offset, None, None), e) for m, e in b.accepted]
        return b

    store.command("DETACH TABLE ntjp_calls_daily_mv")
    sink.write_many([part(0), part(1)], {})
    store.command("ATTACH TABLE ntjp_calls_daily_mv")
    assert totals(store) == (60, 0, 60)
    assert sink.resume(TOPIC, 0) == 0
    assert totals(store) == (60, 60, 60)
    assert sink.resume(TOPIC, 1) == 0
    assert totals(store) == (60, 60, 60)


def monthly(store: ClickHouseStore) -> list[tuple[Any, ...]]:
    return store.query_rows(
        "SELECT month, sum(calls) FROM ntjp_calls_monthly GROUP BY month ORDER BY month"
    )


def daily_by_month(store: ClickHouseStore) -> list[tuple[Any, ...]]:
    return store.query_rows(
        "SELECT toStartOfMonth(day) AS m, sum(calls) FROM ntjp_calls_daily GROUP BY m ORDER BY m"
    )


def test_the_monthly_rollup_missed_by_a_crash_is_filled_in_once(store: ClickHouseStore) -> None:
    """The monthly rollup (issue 17) heals under the same tokens as the daily
    one: a block it missed is applied on resume, one it has is not again, so
    every month stays the sum of its days (Stockholm months)."""
    sink = EventSink(store, CALLS_TABLE)
    sink.write(batch(0, 40, late_every=5), {})
    sink.checkpoints.put(TOPIC, 0, 40)
    store.command("DETACH TABLE ntjp_calls_monthly_mv")
    sink.write(batch(40, 60, late_every=5), {})
    store.command("ATTACH TABLE ntjp_calls_monthly_mv")
    assert sum(n for _, n in monthly(store)) == 40

    assert sink.resume(TOPIC, 0) == 40
    assert sink.resume(TOPIC, 0) == 40  # idempotent
    again = batch(40, 60, late_every=5)
    assert sink.write(again, {}) == 0 and again.duplicates == 60
    assert totals(store) == (100, 100, 100)
    assert monthly(store) == daily_by_month(store)
    # late rows fall in February; 22:00Z on 31 March is already April in Stockholm
    assert [m for m, _ in monthly(store)] == [
        dt.date(2024, 2, 1), dt.date(2024, 3, 1), dt.date(2024, 4, 1)
    ]  # fmt: skip


def test_one_event_in_two_partitions_of_one_write_is_stored_once(
    store: ClickHouseStore,
) -> None:
    """A producer that re-publishes an event under another key puts it in
    another partition; one getmany may bring both copies to one write."""
    sink = EventSink(store, CALLS_TABLE)
    first = batch(0, 30)
    other: Decoded[NtjpCall] = Decoded(TOPIC, 1, 20, 0)
    for i, (_, call) in enumerate(batch(10, 20).accepted):  # e10..e29 again, partition 1
        other.accepted.append((RawMessage(TOPIC, 1, i, None, None), call))
    assert sink.write_many([first, other], {}) == 30
    assert totals(store) == (30, 30, 30)
    assert (first.duplicates, other.duplicates) == (0, 20)
