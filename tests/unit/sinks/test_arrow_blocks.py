"""Batches become Arrow blocks per UTC month (sinks/events.py), pure."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from core.errors import SinkError
from schemas.counties import UNKNOWN_COUNTY
from schemas.events import NtjpCall
from schemas.pipeline import RawMessage
from sinks.events import arrow_table, arrow_types, fill_looked_up, month_blocks
from sinks.ntjp import CALLS_TABLE, call_columns

TYPES = {
    "event_id": "String",
    "occurred_at": "DateTime64(3, 'UTC')",
    "operation": "LowCardinality(String)",
    "patient_age": "Nullable(UInt8)",
    "source_offset": "Int64",
}


def test_types_follow_clickhouse_and_refuse_what_they_do_not_know() -> None:
    t = arrow_types(TYPES)
    assert t["occurred_at"] == pa.timestamp("ms", tz="UTC") and t["patient_age"] == pa.uint8()
    with pytest.raises(SinkError, match="Array"):
        arrow_types({"x": "Array(String)"})


def test_month_blocks_split_by_utc_month_and_keep_rows_and_order() -> None:
    stockholm = dt.timezone(dt.timedelta(hours=1))
    instants = [
        dt.datetime(2024, 2, 1, 0, 30, tzinfo=stockholm),  # 31 January in UTC
        dt.datetime(2024, 2, 1, 12, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.UTC),
    ]
    cols = {
        "event_id": ["a", "b", "c"],
        "occurred_at": instants,
        "operation": ["X", "Y", "Z"],
        "patient_age": [None, 3, 250],
        "source_offset": [7, 8, 9],
    }
    blocks = month_blocks(arrow_table(cols, arrow_types(TYPES)))
    assert [(m, b.column("event_id").to_pylist()) for m, b in blocks] == [
        (202401, ["a", "c"]),
        (202402, ["b"]),
    ]
    jan = blocks[0][1]
    assert jan.column("occurred_at").to_pylist()[0] == dt.datetime(
        2024, 1, 31, 23, 30, tzinfo=dt.UTC
    )
    assert jan.column("patient_age").to_pylist() == [None, 250]
    one = month_blocks(arrow_table({**cols, "occurred_at": [instants[1]] * 3}, arrow_types(TYPES)))
    assert [m for m, _ in one] == [202402] and one[0][1].num_rows == 3


def test_the_looked_up_column_is_filled_per_key_with_the_default_where_unknown() -> None:
    t0 = dt.datetime(2024, 3, 4, 9, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    accepted = [
        (RawMessage("t", 1, 10 + i, None, b""), NtjpCall(f"e{i}", t0, "MakeBooking", a))
        for i, a in enumerate(["U1", "U2", "U1", "U3"])
    ]
    found = {"U1": "01", "U3": "25"}
    types = {
        "event_id": pa.string(), "occurred_at": pa.timestamp("ms", tz="UTC"),
        "operation": pa.string(), "logical_address": pa.string(), "consumer_id": pa.string(),
        "status": pa.string(), "county_at_ingest": pa.string(), "source_partition": pa.int32(),
        "source_offset": pa.int64(), "calls": pa.int64(),
    }  # fmt: skip
    assert CALLS_TABLE.looked_up is not None
    # built without the lookup (the decode stage), filled after it: the same
    # table as built with it
    filled = fill_looked_up(
        arrow_table(call_columns(accepted, {}), types), CALLS_TABLE.looked_up, found
    )
    assert filled.equals(arrow_table(call_columns(accepted, found), types))
    assert filled.column("county_at_ingest").to_pylist() == ["01", UNKNOWN_COUNTY, "01", "25"]
