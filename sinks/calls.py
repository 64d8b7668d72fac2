"""Idempotent writes of NTjP calls, and repair after a crash between writes.

Two kinds of duplicate need two mechanisms:
- a batch Kafka re-delivers after a crash: rows carry their source partition
  and offset, and reading resumes after the checkpoint (see `resume`);
- an event a producer published twice: its event_id is in `ntjp_calls_seen`
  (filled by a materialized view from the raw table), looked up per batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from agents.batch import Decoded, RawMessage
from schemas.counties import UNKNOWN_COUNTY
from schemas.events import NtjpCall
from sinks.checkpoints import Checkpoints
from sinks.clickhouse import ClickHouseStore


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


class CallsSink:
    def __init__(self, store: ClickHouseStore) -> None:
        self._store = store
        self.checkpoints = Checkpoints(store)

    def write(self, batch: Decoded[NtjpCall], county_of: Mapping[str, str]) -> int:
        """Insert the batch's calls not seen before; return how many were new."""
        if not batch.accepted:
            return 0
        ids = [c.event_id for _, c in batch.accepted]
        seen = {
            r[0]
            for r in self._store.query_rows(
                "SELECT event_id FROM ntjp_calls_seen WHERE event_id IN {ids:Array(String)}",
                {"ids": ids},
            )
        }
        fresh = [(m, c) for m, c in batch.accepted if c.event_id not in seen]
        batch.duplicates += len(batch.accepted) - len(fresh)
        self._store.insert_columns("ntjp_calls", call_columns(fresh, county_of))
        return len(fresh)

    def resume(self, topic: str, partition: int) -> int:
        """The offset to read next; heals a crash between the rows and the checkpoint.

        Rows past the checkpoint were written by a batch whose checkpoint never
        landed. Their rollup rows may or may not have been written by the
        materialized views, so the months they touch are rebuilt from the raw
        table and their ids are re-entered in the seen store.
        """
        start = self.checkpoints.get(topic, partition) or 0
        rows = self._store.query_rows(
            "SELECT count(), max(source_offset), "
            "groupUniqArray(toYYYYMM(toDate(occurred_at, 'Europe/Stockholm'))) "
            "FROM ntjp_calls WHERE source = 'stream' "
            "AND source_partition = {p:Int32} AND source_offset >= {o:Int64}",
            {"p": partition, "o": start},
        )
        count, last, months = rows[0]
        if not count:
            return start
        self._store.command(
            "INSERT INTO ntjp_calls_seen SELECT event_id FROM ntjp_calls "
            "WHERE source = 'stream' AND source_partition = {p:Int32} "
            "AND source_offset >= {o:Int64}",
            {"p": partition, "o": start},
        )
        for month in sorted(months):
            self.rebuild_month(int(month))
        self.checkpoints.put(topic, partition, int(last) + 1)
        return int(last) + 1

    def rebuild_month(self, month: int) -> None:
        """Recompute one month (YYYYMM, Stockholm) of the daily rollup from raw rows."""
        self._store.command("ALTER TABLE ntjp_calls_daily DROP PARTITION {m:UInt32}", {"m": month})
        self._store.command(
            "INSERT INTO ntjp_calls_daily "
            "SELECT toDate(occurred_at, 'Europe/Stockholm') AS day, logical_address, "
            "operation, status, sum(calls) FROM ntjp_calls "
            "WHERE toYYYYMM(toDate(occurred_at, 'Europe/Stockholm')) = {m:UInt32} "
            "GROUP BY day, logical_address, operation, status",
            {"m": month},
        )
