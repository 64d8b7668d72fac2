"""NTjP calls in ClickHouse: the columns of a batch (rollups are views)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from schemas.counties import UNKNOWN_COUNTY
from schemas.events import NtjpCall
from schemas.pipeline import Record
from sinks.events import EventTable, contract_columns
from sinks.ntjp_rule import stream_row_counts

_CONTRACT = contract_columns(NtjpCall)


def call_columns(
    accepted: Sequence[tuple[Record, NtjpCall]], county_of: Mapping[str, str]
) -> dict[str, list[Any]]:
    """Columnar rows for ntjp_calls: the contract's, the unit's county as the
    catalogue knew it at ingest, and the call's count (the counting rule,
    sinks/ntjp_rule.py, may make it 0 where a file closed the day)."""
    out = _CONTRACT(accepted)
    out["county_at_ingest"] = [
        county_of.get(c.logical_address, UNKNOWN_COUNTY) for _, c in accepted
    ]
    out["calls"] = [1] * len(accepted)
    return out


STOCKHOLM = ZoneInfo("Europe/Stockholm")


def hold_closed_days(columns: dict[str, list[Any]], closed: set[dt.date]) -> int:
    """The counting rule (sinks/ntjp_rule.py) applied to a batch's columns: a
    streamed call on a day a file has closed counts 0 there. Ingest and every
    backfill store stream rows as they are (calls = 1) and leave the rule to
    the readers (view calls_counted), so that the stored rows never depend on
    when a file arrived relative to them; this is the same rule for a caller
    that needs a batch's counted view of itself."""
    held = 0
    for i, t in enumerate(columns["occurred_at"]):
        if not stream_row_counts(t.astimezone(STOCKHOLM).date(), closed):
            columns["calls"][i] = 0
            held += 1
    return held


CALLS_TABLE: EventTable[NtjpCall] = EventTable(
    "ntjp_calls",
    call_columns,
    # the unit's county as the catalogue knows it at ingest (agents/events.py)
    looked_up=("county_at_ingest", "logical_address", UNKNOWN_COUNTY),
)
