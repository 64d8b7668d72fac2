"""NTjP calls in ClickHouse: the columns of a batch (rollups are views)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from agents.batch import RawMessage
from schemas.counties import UNKNOWN_COUNTY
from schemas.events import NtjpCall
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


CALLS_TABLE: EventTable[NtjpCall] = EventTable("ntjp_calls", call_columns)
