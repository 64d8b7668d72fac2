"""NTjP calls in ClickHouse: the columns of a batch, and rollup repair."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from agents.batch import RawMessage
from schemas.counties import UNKNOWN_COUNTY
from schemas.events import NtjpCall
from sinks.clickhouse import ClickHouseStore
from sinks.events import EventTable, batch_token

STOCKHOLM = ZoneInfo("Europe/Stockholm")


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


def daily_columns(accepted: Sequence[tuple[RawMessage, NtjpCall]]) -> dict[str, list[Any]]:
    """The batch's calls summed per Stockholm day, unit, operation and status."""
    sums: Counter[tuple[dt.date, str, str, str]] = Counter()
    for _, c in accepted:
        day = c.occurred_at.astimezone(STOCKHOLM).date()
        sums[(day, c.logical_address, c.operation, c.status)] += 1
    keys = sorted(sums)
    return {
        "day": [k[0] for k in keys],
        "logical_address": [k[1] for k in keys],
        "operation": [k[2] for k in keys],
        "status": [k[3] for k in keys],
        "calls": [sums[k] for k in keys],
    }


def derive(accepted: Sequence[tuple[RawMessage, NtjpCall]]) -> dict[str, dict[str, list[Any]]]:
    return {"ntjp_calls_daily": daily_columns(accepted)}


def rebuild_after(store: ClickHouseStore, topic: str, partition: int, start: int) -> None:
    """The unconfirmed batch's daily sums, from its raw rows, under its token:
    dropped by ClickHouse if the sink wrote them before the crash."""
    store.command(
        "INSERT INTO ntjp_calls_daily "
        "SELECT toDate(occurred_at, 'Europe/Stockholm') AS day, logical_address, "
        "operation, status, sum(calls) FROM ntjp_calls "
        "WHERE source = 'stream' AND source_partition = {p:Int32} AND source_offset >= {o:Int64} "
        "GROUP BY day, logical_address, operation, status",
        {"p": partition, "o": start},
        settings={
            "insert_deduplication_token": batch_token("ntjp_calls_daily", topic, partition, start)
        },
    )


CALLS_TABLE: EventTable[NtjpCall] = EventTable("ntjp_calls", call_columns, derive, rebuild_after)
