"""Recompute a topic's derived tables from the raw table ClickHouse holds.

The shadow database of a backfill gets the raw rows by INSERT ... SELECT; its
materialized views fill the rollups, the seen store and the lifecycle tables
exactly as live ingest does. Two passes keep live ingest running:

1. without the ingest gate, month by month, the stream rows below each
   partition's checkpoint as it was at the start (`marks`);
2. under the gate (the live loop waits), the stream rows at or past the marks,
   which are the rows written since, and any a crashed batch left past its
   checkpoint.

A row is copied by exactly one pass, so the shadow holds each row once.
Rows the nightly files wrote (source != 'stream') are copied by the backfill
before the first pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sinks.checkpoints import Checkpoints
from sinks.clickhouse import ClickHouseStore, check_identifier

# A partition without a mark reads as offset 0, so all its rows go to pass 2.
_MARK = "transform(source_partition, {ps:Array(Int32)}, {os:Array(Int64)}, toInt64(0))"
_BEFORE = f"source = 'stream' AND source_offset < {_MARK}"
_FROM = f"source = 'stream' AND source_offset >= {_MARK}"
# Blocks of an INSERT ... SELECT are not retries of anything: never drop one
# because an earlier block happened to hash the same.
_COPY = {"insert_deduplicate": 0}


def count(store: ClickHouseStore, table: str) -> int:
    t = check_identifier(table)
    rows = store.query_rows(f"SELECT count() FROM {t} WHERE source = 'stream'")
    return int(rows[0][0]) if rows else 0


def marks_of(checkpoints: Mapping[tuple[str, int], int], topic: str) -> dict[int, int]:
    """Each partition's checkpoint of `topic`, pure."""
    return {p: off for (t, p), off in checkpoints.items() if t == topic}


def _params(marks: Mapping[int, int]) -> dict[str, list[int]]:
    # chDB binds no Map parameter with integer keys; two arrays do the same.
    ps = sorted(marks)
    return {"ps": ps, "os": [marks[p] for p in ps]}


def copy_before(
    store: ClickHouseStore, shadow: ClickHouseStore, table: str, topic: str,
    copied: Callable[[int], None],
) -> dict[int, int]:  # fmt: skip
    """Pass 1; returns the marks pass 2 starts from."""
    t, db = check_identifier(table), check_identifier(store.database)
    marks = marks_of(Checkpoints(store).all(), topic)
    params = _params(marks)
    months = store.query_rows(
        f"SELECT toYYYYMM(occurred_at) AS m, count() FROM {t} WHERE {_BEFORE} "
        "GROUP BY m ORDER BY m",
        params,
    )
    for month, n in months:
        shadow.command(
            f"INSERT INTO {t} SELECT * FROM {db}.{t} "
            f"WHERE toYYYYMM(occurred_at) = {{m:UInt32}} AND {_BEFORE}",
            {"m": int(month), **params},
            settings=_COPY,
        )
        copied(int(n))
    return marks


def copy_from(
    store: ClickHouseStore, shadow: ClickHouseStore, table: str, marks: Mapping[int, int],
    copied: Callable[[int], None],
) -> None:  # fmt: skip
    """Pass 2, under the ingest gate."""
    t, db = check_identifier(table), check_identifier(store.database)
    params = _params(marks)
    rows = store.query_rows(f"SELECT count() FROM {t} WHERE {_FROM}", params)
    shadow.command(
        f"INSERT INTO {t} SELECT * FROM {db}.{t} WHERE {_FROM}",
        params,
        settings=_COPY,
    )
    copied(int(rows[0][0]) if rows else 0)
