"""NTjP calls in ClickHouse: the columns of a batch (rollups are views)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

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
        "calls": [1] * len(accepted),
    }


# Held while a batch of calls is written and while a calls file is applied, so a
# file's corrections and the stream's rows for its day never interleave.
DAY_LOCK = threading.RLock()
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def closed_days(store: ClickHouseStore) -> set[dt.date]:
    rows = store.query_rows(
        "SELECT DISTINCT day FROM reconciliation_files "
        "WHERE kind = 'ntjp/calls' AND status = 'applied'"
    )
    return {r[0] for r in rows}


def hold_closed_days(columns: dict[str, list[Any]], closed: set[dt.date]) -> int:
    """A streamed call on a day a file has closed is stored (what the stream said
    stays queryable) but counts 0: the file is the authority for that day."""
    held = 0
    for i, t in enumerate(columns["occurred_at"]):
        if t.astimezone(STOCKHOLM).date() in closed:
            columns["calls"][i] = 0
            held += 1
    return held


def adjust(store: ClickHouseStore, columns: dict[str, list[Any]]) -> None:
    closed = closed_days(store)
    if closed:
        hold_closed_days(columns, closed)


CALLS_TABLE: EventTable[NtjpCall] = EventTable("ntjp_calls", call_columns, adjust, DAY_LOCK)
