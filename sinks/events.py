"""Idempotent writes of event rows, and repair after a crash between writes.

Two kinds of duplicate need two mechanisms:
- a batch Kafka re-delivers after a crash: rows carry their source partition
  and offset, and reading resumes after the checkpoint (see `resume`);
- an event a producer published twice: its event_id is in the `<table>_seen`
  key-value table (filled by a materialized view from the raw table), looked
  up per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from agents.batch import Decoded, HasEventId, RawMessage
from sinks.checkpoints import Checkpoints
from sinks.clickhouse import ClickHouseStore

E = TypeVar("E", bound=HasEventId)
Columns = dict[str, list[Any]]


def batch_token(table: str, topic: str, partition: int, start_offset: int) -> str:
    return f"{table}|{topic}|{partition}|{start_offset}"


@dataclass(frozen=True)
class EventTable(Generic[E]):
    """What differs between event topics' storage."""

    table: str
    to_columns: Callable[[Sequence[tuple[RawMessage, E]], Mapping[str, str]], Columns]
    # Rollups the sink writes itself, one block each, under the batch's token.
    derive: Callable[[Sequence[tuple[RawMessage, E]]], dict[str, Columns]]
    # After a crash: write again, under the same tokens, what rows at offset >=
    # start of this partition derive (ClickHouse drops what already landed),
    # and feed idempotent materialized views. Args: store, topic, partition, start.
    rebuild: Callable[[ClickHouseStore, str, int, int], None]


class EventSink(Generic[E]):
    def __init__(self, store: ClickHouseStore, spec: EventTable[E]) -> None:
        self._store = store
        self.spec = spec
        self.checkpoints = Checkpoints(store)

    def write(self, batch: Decoded[E], lookup: Mapping[str, str]) -> int:
        """Insert the batch's events not seen before; return how many were new."""
        if not batch.accepted:
            return 0
        ids = [e.event_id for _, e in batch.accepted]
        seen = {
            r[0]
            for r in self._store.query_rows(
                f"SELECT event_id FROM {self.spec.table}_seen "
                "WHERE event_id IN {ids:Array(String)}",
                {"ids": ids},
            )
        }
        fresh = [(m, e) for m, e in batch.accepted if e.event_id not in seen]
        batch.duplicates += len(batch.accepted) - len(fresh)
        if not fresh:
            return 0
        self._store.insert_columns(self.spec.table, self.spec.to_columns(fresh, lookup))
        for table, columns in self.spec.derive(fresh).items():
            token = batch_token(table, batch.topic, batch.partition, batch.start_offset)
            self._store.insert_columns(table, columns, {"insert_deduplication_token": token})
        return len(fresh)

    def resume(self, topic: str, partition: int) -> int:
        """The offset to read next; heals a crash between the rows and the checkpoint.

        Rows past the checkpoint were written by a batch whose checkpoint never
        landed: their ids are re-entered in the seen store, and what they
        derive is written again under the batch's own token.
        """
        start = self.checkpoints.get(topic, partition) or 0
        table = self.spec.table
        rows = self._store.query_rows(
            f"SELECT count(), max(source_offset) FROM {table} WHERE source = 'stream' "
            "AND source_partition = {p:Int32} AND source_offset >= {o:Int64}",
            {"p": partition, "o": start},
        )
        count, last = rows[0]
        if not count:
            return start
        self._store.command(
            f"INSERT INTO {table}_seen SELECT event_id FROM {table} "
            "WHERE source = 'stream' AND source_partition = {p:Int32} "
            "AND source_offset >= {o:Int64}",
            {"p": partition, "o": start},
        )
        self.spec.rebuild(self._store, topic, partition, start)
        self.checkpoints.put(topic, partition, int(last) + 1)
        return int(last) + 1
