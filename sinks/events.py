"""Idempotent writes of event rows, and repair after a crash between writes.

Two kinds of duplicate need two mechanisms:
- a batch Kafka re-delivers after a crash: rows carry their source partition,
  offset and the deduplication token of their block (topic, each partition's
  batch start and end, month: one block holds every partition of a getmany);
  reading resumes at ClickHouse's checkpoint after the blocks already written
  are healed under their own tokens — see `resume`;
- an event a producer published twice: its event_id is in the `<table>_seen`
  key-value table (filled by a materialized view from the raw table), looked
  up per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec
import msgspec.inspect
import pyarrow as pa
import pyarrow.compute as pc

from core import faults
from core.errors import SinkError
from schemas.pipeline import Decoded, HasEventId, Record
from sinks.checkpoints import Checkpoints
from sinks.clickhouse import ClickHouseStore

if TYPE_CHECKING:
    from sinks.fencing import Fence

E = TypeVar("E", bound=HasEventId)
Columns = dict[str, list[Any]]

# A block deduplicated in the raw table is still pushed to its materialized
# views, which deduplicate on tokens derived from the raw block's: so a view
# that missed the block (crash between the raw part and the view's part) gets
# it on repair, and one that has it does not get it twice.
DEDUP = {"deduplicate_blocks_in_dependent_materialized_views": 1}


def batch_spans(batches: Sequence[Decoded[Any]]) -> str:
    """The partitions and offset ranges a write covers: `p:start-end,...`."""
    return ",".join(f"{b.partition}:{b.start_offset}-{b.next_offset}" for b in batches)


def batch_token(table: str, topic: str, spans: str, month: int) -> str:
    """The deduplication token of one block: the same batches read again after
    a crash (from the same checkpoints to the same ends) name it again."""
    return f"{table}|{topic}|{spans}|{month}"


def legacy_token(table: str, topic: str, partition: int, start_offset: int, month: int) -> str:
    """The token of rows written before tokens were stored (migration 0010)."""
    return f"{table}|{topic}|{partition}|{start_offset}|{month}"


@dataclass(frozen=True)
class Derived(Generic[E]):
    """Tables the sink keeps itself, beside the raw table's views: e.g. a
    rollup that a late row changes on other days than its own
    (sinks/sob_rollups.py).

    `refresh` gets every accepted event of a batch, those seen before too,
    after the batch's rows are written and before its checkpoint, so a batch
    Kafka delivers again after a crash refreshes again. `rebuild` recomputes
    everything from what is stored (after rows came by INSERT ... SELECT: a
    backfill's swap, a bulk copy) and clears `mark_stale`, a mark in
    ClickHouse (not in a process) made before a change whose recompute could
    be cut off; `heal` rebuilds only if such a mark is left.
    """

    tables: tuple[str, ...]
    refresh: Callable[[ClickHouseStore, Sequence[E]], object]
    rebuild: Callable[[ClickHouseStore], object]
    mark_stale: Callable[[ClickHouseStore], object]
    heal: Callable[[ClickHouseStore], object]


@dataclass(frozen=True)
class EventTable(Generic[E]):
    """What differs between event topics' storage: the table and its columns.

    The table is partitioned by toYYYYMM(occurred_at) (UTC) and has a
    non_replicated_deduplication_window; the sink writes one block per month,
    so a token always names exactly one part.
    """

    table: str
    to_columns: Callable[[Sequence[tuple[Record, E]], Mapping[str, str]], Columns]
    # Adjusts a batch's columns with what ClickHouse knows right now (e.g. which
    # days a file has closed), under `lock`, which writers of corrections share.
    adjust: Callable[[ClickHouseStore, Columns], None] | None = None
    lock: AbstractContextManager[Any] = field(default_factory=nullcontext)
    derived: Derived[E] | None = None
    # The one column `to_columns` fills from the batch's lookup: (column, the
    # column it is looked up by, the value when not found). None: `to_columns`
    # does not use the lookup. Declared, the column is filled on the Arrow
    # table, after the batch's columns were built in the decode stage.
    looked_up: tuple[str, str, str] | None = None


def contract_columns(
    kind: type[msgspec.Struct],
) -> Callable[[Sequence[tuple[Record, Any]]], Columns]:
    """The columns of a raw table as its contract's struct declares them, one
    per field in order, then where each event was read (`source_partition`,
    `source_offset`). An optional text field (a string or a set of strings)
    is '' when absent, as the raw tables keep text non-Nullable; any other
    optional field stays NULL. Aware instants go as they are: Arrow and
    clickhouse-connect store them as UTC."""
    plan = []
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType), kind
    for f in info.fields:
        t = f.type
        blank = isinstance(t, msgspec.inspect.UnionType) and all(
            isinstance(x, (msgspec.inspect.StrType, msgspec.inspect.LiteralType,
                           msgspec.inspect.NoneType))
            for x in t.types
        )  # fmt: skip
        plan.append((f.name, attrgetter(f.name), blank))

    def columns(accepted: Sequence[tuple[Record, Any]]) -> Columns:
        events = [e for _, e in accepted]
        out: Columns = {
            name: [get(e) or "" for e in events] if blank else list(map(get, events))
            for name, get, blank in plan
        }
        out["source_partition"] = [m.partition for m, _ in accepted]
        out["source_offset"] = [m.offset for m, _ in accepted]
        return out

    return columns


# ClickHouse column types of the raw tables -> Arrow types (Nullable is Arrow's default)
_ARROW = {
    "String": pa.string(),
    "LowCardinality(String)": pa.string(),
    "DateTime64(3, 'UTC')": pa.timestamp("ms", tz="UTC"),
    "Date": pa.date32(),
    "UInt8": pa.uint8(),
    "UInt16": pa.uint16(),
    "UInt32": pa.uint32(),
    "UInt64": pa.uint64(),
    "Int32": pa.int32(),
    "Int64": pa.int64(),
}


def arrow_types(column_types: Mapping[str, str]) -> dict[str, pa.DataType]:
    """Arrow types for a table's columns, pure; a type not listed is an error
    here, at the first batch, rather than a silent conversion."""
    out = {}
    for name, ch in column_types.items():
        inner = ch[len("Nullable(") : -1] if ch.startswith("Nullable(") else ch
        if inner not in _ARROW:
            raise SinkError(f"column {name}: no Arrow type for ClickHouse type {ch}")
        out[name] = _ARROW[inner]
    return out


def arrow_table(columns: Columns, types: Mapping[str, pa.DataType]) -> pa.Table:
    """The batch's columns (Python lists) as one Arrow table, pure."""
    return pa.table({k: pa.array(v, types[k]) for k, v in columns.items()})


def fill_looked_up(
    table: pa.Table, looked_up: tuple[str, str, str], found: Mapping[str, str]
) -> pa.Table:
    """`table` with its looked-up column set from `found` by its key column
    (the default where a key is not found), pure: one dictionary lookup per
    distinct key, not per row."""
    column, key, default = looked_up
    keys = pc.dictionary_encode(table.column(key)).combine_chunks()
    values = pa.array(
        [found.get(k, default) for k in keys.dictionary.to_pylist()],
        table.schema.field(column).type,
    )
    i = table.schema.get_field_index(column)
    return table.set_column(i, table.schema.field(column), pc.take(values, keys.indices))


def first_occurrences(ids: pa.ChunkedArray) -> pa.Array | None:
    """A mask keeping the first row of each event id, or None when all differ.
    Each partition's batch is deduplicated where it is decoded; a producer
    that re-publishes an event under another key puts it in another
    partition, and one write of several partitions must store it once too."""
    if pc.count_distinct(ids).as_py() == len(ids):
        return None
    known: set[str] = set()
    keep = []
    for v in ids.to_pylist():
        keep.append(v not in known)
        known.add(v)
    return pa.array(keep, pa.bool_())


def month_blocks(table: pa.Table) -> list[tuple[int, pa.Table]]:
    """The rows per UTC month (YYYYMM), the raw tables' partition key, in month
    order, pure: computed on the Arrow column, not per row in Python."""
    t = table.column("occurred_at")
    months = pc.add(pc.multiply(pc.year(t), 100), pc.month(t))
    distinct = sorted(int(m) for m in pc.unique(months).to_pylist())
    if len(distinct) == 1:
        return [(distinct[0], table)]
    return [(m, table.filter(pc.equal(months, m))) for m in distinct]


class EventSink(Generic[E]):
    def __init__(self, store: ClickHouseStore, spec: EventTable[E], derive: bool = True) -> None:
        self._store = store
        self.spec = spec
        self.checkpoints = Checkpoints(store)
        # A backfill's shadow skips it: the swapped-in tables are rebuilt whole.
        self._derived = spec.derived if derive else None
        self._types: dict[str, pa.DataType] | None = None  # read from ClickHouse once

    def write(self, batch: Decoded[E], lookup: Mapping[str, str]) -> int:
        """Insert the batch's events not seen before; return how many were new."""
        return self.write_many([batch], lookup)

    def prepare(self, batch: Decoded[E]) -> Decoded[E]:
        """The batch's accepted events as an Arrow table (`batch.table`), built
        where the batch is decoded: a loop decodes and builds batch N+1 while
        chDB inserts batch N, so the write itself is mostly chDB's work, which
        runs without the GIL. Pure but for reading the column types once."""
        if batch.accepted and self.spec.adjust is None:
            batch.table = arrow_table(self.spec.to_columns(batch.accepted, {}), self._arrow_types())
        return batch

    def write_many(
        self,
        batches: Sequence[Decoded[E]],
        lookup: Mapping[str, str],
        fence: Fence | None = None,
    ) -> int:
        """One getmany's batches (one per partition) as one write: one seen-id
        lookup, one block per UTC month for all partitions together, one
        recompute of what the sink keeps. Returns how many events were new.

        With a `fence` (a worker's ingest), nothing is inserted once another
        worker has claimed one of the partitions (sinks/fencing.py): checked
        as late as possible, after the seen-id lookup and right before the
        blocks, since a late insert after the new owner's lookup is what
        would count an event twice."""
        accepted = [pair for b in batches for pair in b.accepted]
        if not accepted:
            return 0
        if self.spec.adjust is None:
            ready = [self._prepared(b) for b in batches if b.accepted]
            written = self._write_arrow(ready, lookup, fence)
        else:
            written = self._write_columns(batches, accepted, lookup, fence)
        if self._derived is not None:
            faults.point("sink.before-derive")
            self._derived.refresh(self._store, [e for _, e in accepted])
        return written

    def _prepared(self, batch: Decoded[E]) -> Decoded[E]:
        return batch if batch.table is not None else self.prepare(batch)

    def _write_arrow(
        self, batches: Sequence[Decoded[E]], lookup: Mapping[str, str], fence: Fence | None
    ) -> int:
        """The rows not seen before, filtered and completed on the Arrow table."""
        table = pa.concat_tables([b.table for b in batches])
        ids = table.column("event_id")
        seen = self._store.existing(f"{self.spec.table}_seen", "event_id", ids)
        fresh = first_occurrences(ids) if len(batches) > 1 else None
        if seen:
            unseen = pc.invert(pc.is_in(ids, value_set=pa.array(sorted(seen), pa.string())))
            fresh = unseen if fresh is None else pc.and_(fresh, unseen)
        if fresh is not None:
            start = 0
            for b in batches:
                n = b.table.num_rows
                b.duplicates += n - pc.sum(fresh.slice(start, n)).as_py()
                start += n
            table = table.filter(fresh)
        if table.num_rows and self.spec.looked_up is not None:
            table = fill_looked_up(table, self.spec.looked_up, lookup)
        if table.num_rows:
            with self.spec.lock:
                faults.point("sink.before-insert")
                self._insert(batches, table, fence)
        return int(table.num_rows)

    def _write_columns(
        self,
        batches: Sequence[Decoded[E]],
        accepted: Sequence[tuple[Record, E]],
        lookup: Mapping[str, str],
        fence: Fence | None,
    ) -> int:
        """A table whose columns are adjusted in Python under its lock."""
        ids = [e.event_id for _, e in accepted]
        seen = set(self._store.existing(f"{self.spec.table}_seen", "event_id", ids))
        fresh: list[tuple[Record, E]] = []
        for b in batches:
            mine = []
            for m, e in b.accepted:
                if e.event_id not in seen:  # nor earlier in this write (first_occurrences)
                    seen.add(e.event_id)
                    mine.append((m, e))
            b.duplicates += len(b.accepted) - len(mine)
            fresh += mine
        if fresh:
            columns = self.spec.to_columns(fresh, lookup)
            with self.spec.lock:
                if self.spec.adjust is not None:
                    self.spec.adjust(self._store, columns)
                faults.point("sink.before-insert")
                self._insert(batches, arrow_table(columns, self._arrow_types()), fence)
        return len(fresh)

    def _insert(
        self, batches: Sequence[Decoded[E]], table: pa.Table, fence: Fence | None = None
    ) -> None:
        spans = batch_spans(batches)
        partitions = sorted({b.partition for b in batches})
        for i, (month, block) in enumerate(month_blocks(table)):
            if fence is not None:
                # every block: a stall between two blocks is as late as one before the first
                fence.check(partitions, "rows", stale_only=i > 0)
            token = batch_token(self.spec.table, batches[0].topic, spans, month)
            # One Arrow chunk, so one ClickHouse block under exactly this token:
            # a table of several chunks (one per partition's batch) would be
            # inserted as several blocks, deduplicated as token_0, token_1...,
            # and the repair's INSERT ... SELECT under `token` would not match.
            block = block.combine_chunks()
            block = block.append_column("batch_token", pa.repeat(token, block.num_rows))
            self._store.insert_arrow(
                self.spec.table, block, {**DEDUP, "insert_deduplication_token": token}
            )

    def _arrow_types(self) -> dict[str, pa.DataType]:
        if self._types is None:
            self._types = arrow_types(self._store.column_types(self.spec.table))
        return self._types

    def resume(self, topic: str, partition: int) -> int:
        """The offset to read next (the checkpoint), after healing a crash
        between a batch's blocks, its views and its checkpoint.

        Rows past the checkpoint were written by a write whose checkpoint never
        landed, perhaps only some of its month blocks. Each block that exists
        is inserted again under its own token: the raw table drops it, and each
        materialized view (rollups, seen ids, lifecycle) applies it only if it
        had missed it. Reading then starts again at the checkpoint: the seen
        store recognises the events already written, and the rest (a month
        block the crash cut off) are written now.
        """
        start = self.checkpoints.get(topic, partition) or 0
        table = self.spec.table
        where = "source = 'stream' AND source_partition = {p:Int32} AND source_offset >= {o:Int64}"
        blocks = self._store.query_rows(
            f"SELECT batch_token, toYYYYMM(occurred_at) AS m FROM {table} "
            f"WHERE {where} GROUP BY batch_token, m ORDER BY m, batch_token",
            {"p": partition, "o": start},
        )
        for token, month in blocks:
            # A block holds every partition its write covered: all of it goes
            # in again, so a view that missed it gets all of its rows. (Rows
            # from before tokens were stored are found by partition.)
            block = "batch_token = {t:String}" if token else f"batch_token = '' AND {where}"
            self._store.command(
                f"INSERT INTO {table} SELECT * FROM {table} WHERE {block} "
                "AND toYYYYMM(occurred_at) = {m:UInt32}",
                {"p": partition, "o": start, "t": token, "m": int(month)},
                settings={
                    **DEDUP,
                    "insert_deduplication_token": token
                    or legacy_token(table, topic, partition, start, int(month)),
                },
            )
        return start
