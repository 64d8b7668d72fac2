"""NTjP calls in ClickHouse: the columns of a batch, and rollup repair."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from agents.batch import RawMessage
from schemas.counties import UNKNOWN_COUNTY
from schemas.events import NtjpCall
from sinks.clickhouse import ClickHouseStore
from sinks.events import EventTable


def call_columns(
    accepted: Sequence[tuple[RawMessage, NtjpCall]], county_of: Mapping[str, str]
) -> dict[str, list[Any]]:
    """Columnar rows for ntjp_calls; county_of is the catalogue as known at ingest."""
    return {
        "event_id": [c.event_id for _, c in accepted],
        "occurred_at": [c.occurred_at.astimezone(dt.UTC) for _, c in accepted],
        "operation": [c.operation for _, c in accepted],
        "logical_address": [c.logical_address for _, c in accepted],
        "consumer_id": [c.consumer_id or "" for _, c in accepted],
        "status": [c.status for _, c in accepted],
        "county_at_ingest": [county_of.get(c.logical_address, UNKNOWN_COUNTY) for _, c in accepted],
        "source_partition": [m.partition for m, _ in accepted],
        "source_offset": [m.offset for m, _ in accepted],
    }


def rebuild_after(store: ClickHouseStore, partition: int, start: int) -> None:
    """The daily rollup is a sum, so it cannot be patched row by row: every
    Stockholm month the unconfirmed rows touch is recomputed from raw rows."""
    months = store.query_rows(
        "SELECT DISTINCT toYYYYMM(toDate(occurred_at, 'Europe/Stockholm')) FROM ntjp_calls "
        "WHERE source = 'stream' AND source_partition = {p:Int32} AND source_offset >= {o:Int64}",
        {"p": partition, "o": start},
    )
    for (month,) in sorted(months):
        rebuild_month(store, int(month))


def rebuild_month(store: ClickHouseStore, month: int) -> None:
    """Recompute one month (YYYYMM, Stockholm) of the daily rollup from raw rows."""
    store.command("ALTER TABLE ntjp_calls_daily DROP PARTITION {m:UInt32}", {"m": month})
    store.command(
        "INSERT INTO ntjp_calls_daily "
        "SELECT toDate(occurred_at, 'Europe/Stockholm') AS day, logical_address, "
        "operation, status, sum(calls) FROM ntjp_calls "
        "WHERE toYYYYMM(toDate(occurred_at, 'Europe/Stockholm')) = {m:UInt32} "
        "GROUP BY day, logical_address, operation, status",
        {"m": month},
    )


CALLS_TABLE: EventTable[NtjpCall] = EventTable("ntjp_calls", call_columns, rebuild_after)
