"""Replay a topic into a fresh set of tables and swap them in, without downtime.

Runs in any process (`statflow api`, `statflow run`): one backfill per topic
at a time, held by the lease `backfill/<topic>` in ClickHouse.

1. a shadow database gets every migration (the new schema, if it changed);
   rows the files wrote (source != 'stream') are copied in. Stream rows are
   replayed as they are (calls = 1, whatever their day): which rows count on
   a reconciled day is decided when a report reads (sinks/ntjp_rule.py), from
   the file registry and the files' counts, which stay outside the swap;
2. the topic is read from an offset or a timestamp to the end offsets seen at
   the start, through the same decode and sink as live ingest, while reports
   keep answering from the current tables;
3. with the topic's ingest paused (streams/pause.py: a lease in ClickHouse
   that every worker's loop acknowledges between batches, whichever process
   it runs in) the shadow reads on to the live checkpoints, then the raw table and every table
   its materialized views fill are swapped with EXCHANGE TABLES (atomic per
   table; a report reads either all old or all new rows of one table) and the
   shadow database, now holding the old tables, is dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from core import faults
from core.errors import StatflowError
from core.settings import Settings
from schemas.pipeline import Decoded, decode_events
from sinks.checkpoints import Checkpoints
from sinks.clickhouse import ClickHouseStore, check_identifier
from sinks.events import EventSink, EventTable
from sinks.leases import Leases, holder_id
from sinks.migrate import migrate
from streams import pause, rebuild

Lookup = Callable[[Decoded[Any]], Awaitable[Mapping[str, str]]]
log = logging.getLogger("statflow.backfill")


class BackfillError(StatflowError):
    """A backfill cannot start or could not finish (the current tables are untouched)."""


@dataclass(frozen=True)
class Replayable:
    """What a batched topic needs to be replayed: its decoder, table and lookup."""

    decode: Callable[[bytes | None], Any]
    table: EventTable[Any]
    lookup: Lookup


# Overrides for tests that replay a table of their own; the event topics are
# declared in agents/events.EVENT_TOPICS and resolved by `agents.events.replayable`.
REPLAYABLE: dict[str, Replayable] = {}
RUN_TTL = 60.0  # seconds; the run's lease is renewed every RUN_TTL / 4


def run_lease(topic: str) -> str:
    return f"backfill/{topic}"


async def _renewing(leases: Leases, name: str, holder: str, epoch: int, ttl: float) -> None:
    """Keep a lease while the task runs (cancelled when the work is done)."""
    while True:
        await asyncio.sleep(ttl / 4)
        if not await asyncio.to_thread(leases.renew, name, holder, epoch, ttl):
            log.warning("lease lost", extra={"lease": name})
            return


@dataclass
class Progress:
    topic: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: str = "starting"  # starting | reading | swapping | done | failed
    read: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    error: str = ""
    swapped: tuple[str, ...] = ()

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Remaining time at the rate so far; None before there is a rate."""
        elapsed = (time.monotonic() if now is None else now) - self.started
        if self.read <= 0 or elapsed <= 0 or self.total <= 0:
            return None
        return max(self.total - self.read, 0) / (self.read / elapsed)

    def to_json(self) -> dict[str, Any]:
        eta = self.eta_seconds()
        return {
            "id": self.id,
            "topic": self.topic,
            "state": self.state,
            "read": self.read,
            "total": self.total,
            "eta_seconds": None if eta is None else round(eta, 1),
            "error": self.error,
            "swapped": list(self.swapped),
        }


_VIEW = re.compile(r"\bTO\s+`?(\w+)`?\.`?(\w+)`?.*?\bFROM\s+`?(\w+)`?\.`?(\w+)`?", re.S)


def family_of(raw: str, views: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The raw table and every table a materialized view fills from it, pure.
    `views` are (name, create query) of the database's materialized views."""
    out = [raw]
    for _, query in views:
        m = _VIEW.search(query)
        if m and m.group(4) == raw and m.group(2) not in out:
            out.append(m.group(2))
    return tuple(out)


def progress_bar(p: Mapping[str, Any], width: int = 30) -> str:
    total, read = int(p.get("total") or 0), int(p.get("read") or 0)
    share = min(read / total, 1.0) if total else 0.0
    filled = int(share * width)
    eta = p.get("eta_seconds")
    eta_text = "–" if eta is None else str(dt.timedelta(seconds=int(eta)))
    return (f"[{'#' * filled}{'.' * (width - filled)}] {share:6.1%} "
            f"{read}/{total} {p.get('state', '')} ETA {eta_text}")  # fmt: skip


async def _start_offsets(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], from_offset: int | None,
    from_time: dt.datetime | None,
) -> dict[TopicPartition, int]:  # fmt: skip
    begin = await consumer.beginning_offsets(tps)
    if from_time is not None:
        found = await consumer.offsets_for_times(
            {tp: int(from_time.timestamp() * 1000) for tp in tps}
        )
        ends = await consumer.end_offsets(tps)
        return {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in tps}
    return {tp: max(begin[tp], from_offset or 0) for tp in tps}


@dataclass(frozen=True)
class Claim:
    """A topic's run lease, held: one backfill per topic in every process."""

    holder: str
    epoch: int


def claim(store: ClickHouseStore, topic: str) -> Claim | None:
    """The topic's run lease for a new backfill, or None while another holds
    it. Taken before a backfill is accepted (the API answers 202 only with it),
    so two requests at once cannot both be."""
    holder = holder_id("backfill")
    held = Leases(store).acquire(run_lease(topic), holder, RUN_TTL)
    return None if held is None else Claim(holder, held.epoch)


async def run(
    settings: Settings, store: ClickHouseStore, topic: str, progress: Progress,
    from_offset: int | None = None, from_time: dt.datetime | None = None,
    source: str = "kafka", spec: Replayable | None = None, claimed: Claim | None = None,
) -> None:  # fmt: skip
    """Rebuild the topic's tables from Kafka (`source="kafka"`, a replay through
    the decoder) or from the raw table ClickHouse already holds (`"raw"`: every
    rollup, seen store and lifecycle table recomputed by the views, e.g. after
    a view's definition changed), then swap them in. With `claimed` (from
    `claim`) the run lease is already held; it is released when the run ends."""
    leases = Leases(store)
    spec = spec or REPLAYABLE.get(topic)
    if spec is None:
        if claimed is not None:
            await asyncio.to_thread(leases.release, run_lease(topic), claimed.holder, claimed.epoch)
        progress.state, progress.error = "failed", "not a batched event topic"
        raise BackfillError(f"{topic} is not a batched event topic")
    held = claimed or await asyncio.to_thread(claim, store, topic)
    if held is None:
        progress.state, progress.error = "failed", "a backfill of this topic is already running"
        raise BackfillError(f"a backfill of {topic} is already running (in some process)")
    name = run_lease(topic)
    renewing = asyncio.create_task(_renewing(leases, name, held.holder, held.epoch, RUN_TTL))
    try:
        await _run(
            settings, store, topic, progress, from_offset, from_time, source, spec, held.holder
        )
    finally:
        renewing.cancel()
        await asyncio.to_thread(leases.release, name, held.holder, held.epoch)


async def _run(
    settings: Settings, store: ClickHouseStore, topic: str, progress: Progress,
    from_offset: int | None, from_time: dt.datetime | None, source: str, spec: Replayable,
    holder: str,
) -> None:  # fmt: skip
    shadow_db = check_identifier(f"{store.database}_backfill_{progress.id}")
    log.info("backfill starting", extra={"topic": topic, "shadow": shadow_db})
    # The shadow gets its own reports views too (migration 0011), dropped with it.
    shadow_settings = settings.with_(
        clickhouse_database=shadow_db, reports_database=f"{shadow_db}_reports"
    )
    shadow = ClickHouseStore(shadow_settings, share_lock=store)
    table = spec.table.table
    try:
        # Calls files an older version applied get their counts before the
        # replay changes the stream rows their days' sums were made of.
        from sinks.ntjp_files import adopt_legacy

        adopt_legacy(store)
        migrate(shadow)
        db = check_identifier(store.database)
        views = store.query_rows(
            "SELECT name, create_table_query FROM system.tables "
            "WHERE database = {db:String} AND engine = 'MaterializedView'",
            {"db": store.database},
        )
        family = family_of(table, [(str(n), str(q)) for n, q in views])
        shadow.command(f"INSERT INTO {table} SELECT * FROM {db}.{table} WHERE source != 'stream'")
        derived = spec.table.derived
        if derived is not None:
            await asyncio.to_thread(derived.mark_stale, store)
        if source == "raw":
            await _from_raw(store, shadow, topic, table, progress, db, shadow_db, family, holder)
        else:
            await _from_kafka(settings, store, shadow, spec, topic, progress, from_offset,
                              from_time, db, shadow_db, family, holder)  # fmt: skip
        if derived is not None:
            # Kept by the sink, not by views: recomputed whole from the swapped-in
            # tables (marked stale before the swap, so a kill before this ends is
            # healed by the next worker start).
            await asyncio.to_thread(derived.rebuild, store)
        progress.state = "done"
        log.info("backfill swapped in",
                 extra={"topic": topic, "source": source, "tables": list(progress.swapped)})  # fmt: skip
    except Exception as exc:
        progress.state, progress.error = "failed", str(exc)[:500]
        raise
    finally:
        on = shadow.on_cluster  # runtime DDL reaches every replica too
        shadow.command(f"DROP DATABASE IF EXISTS {shadow.reports_database}{on}")
        shadow.command(f"DROP DATABASE IF EXISTS {shadow_db}{on}")
        shadow.close()


async def _from_raw(
    store: ClickHouseStore, shadow: ClickHouseStore, topic: str, table: str, progress: Progress,
    db: str, shadow_db: str, family: Sequence[str], holder: str,
) -> None:  # fmt: skip
    """Fill the shadow from the raw table (streams/rebuild.py), then swap."""

    def copied(n: int) -> None:
        progress.read += n

    progress.total = await asyncio.to_thread(rebuild.count, store, table)
    progress.state = "reading"
    marks = await asyncio.to_thread(rebuild.copy_before, store, shadow, table, topic, copied)
    progress.state = "swapping"
    async with paused(store, topic, holder):
        await asyncio.to_thread(rebuild.copy_from, store, shadow, table, marks, copied)
        progress.swapped = _swap(store, db, shadow_db, family)


async def _from_kafka(
    settings: Settings, store: ClickHouseStore, shadow: ClickHouseStore, spec: Replayable,
    topic: str, progress: Progress, from_offset: int | None, from_time: dt.datetime | None,
    db: str, shadow_db: str, family: Sequence[str], holder: str,
) -> None:  # fmt: skip
    """Fill the shadow by replaying the topic through decoder and sink, then swap."""
    sink: EventSink[Any] = EventSink(shadow, spec.table, derive=False)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
        group_id=None, max_partition_fetch_bytes=8 * 1024 * 1024,
    )  # fmt: skip
    await consumer.start()
    try:
        # A consumer without a group or subscription knows no topic yet.
        await consumer._client.force_metadata_update()  # noqa: SLF001
        parts = consumer.partitions_for_topic(topic) or set()
        if not parts:
            raise BackfillError(f"topic {topic} has no partitions (does it exist?)")
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        start = await _start_offsets(consumer, tps, from_offset, from_time)
        for tp, off in start.items():
            consumer.seek(tp, off)
        ends = await consumer.end_offsets(tps)
        progress.total = sum(max(ends[tp] - start[tp], 0) for tp in tps)
        progress.state = "reading"
        log.info("backfill reading", extra={"topic": topic, "records": progress.total})
        await _read_until(consumer, spec, sink, progress, {tp: ends[tp] for tp in tps})
        progress.state = "swapping"
        async with paused(store, topic, holder):
            live = Checkpoints(store)
            upto = {tp: max(live.get(topic, tp.partition) or 0, ends[tp]) for tp in tps}
            progress.total += sum(upto[tp] - ends[tp] for tp in tps)
            await _read_until(consumer, spec, sink, progress, upto)
            progress.swapped = _swap(store, db, shadow_db, family)
    finally:
        await consumer.stop()


@asynccontextmanager
async def paused(store: ClickHouseStore, topic: str, holder: str) -> AsyncIterator[None]:
    """Every worker of the topic stopped between batches (streams/pause.py)
    for the block; the pause lease is renewed meanwhile and released after."""
    state = await pause.pause_ingest(store, topic, holder)
    name = pause.pause_lease(topic)
    renewing = asyncio.create_task(
        _renewing(Leases(store), name, holder, state.epoch, pause.PAUSE_TTL)
    )
    try:
        yield
    finally:
        renewing.cancel()
        await pause.resume_ingest(store, topic, holder, state.epoch)


def _swap(
    store: ClickHouseStore, db: str, shadow_db: str, family: Sequence[str]
) -> tuple[str, ...]:
    """Exchange each table of the family; on a failure half-way, exchange back
    what was done, so the current tables are never a mix of old and new."""
    done: list[str] = []
    try:
        for name in family:
            t = check_identifier(name)
            store.command(f"EXCHANGE TABLES {db}.{t} AND {shadow_db}.{t}{store.on_cluster}")
            done.append(t)
            faults.point("backfill.mid-swap")
    except Exception:
        for t in reversed(done):
            store.command(f"EXCHANGE TABLES {db}.{t} AND {shadow_db}.{t}{store.on_cluster}")
        raise
    return tuple(done)


async def _read_until(
    consumer: AIOKafkaConsumer, spec: Replayable, sink: EventSink[Any], progress: Progress,
    upto: Mapping[TopicPartition, int],
) -> None:  # fmt: skip
    """Read every partition up to (not including) its `upto` offset."""
    while True:
        pending = [tp for tp, end in upto.items() if await consumer.position(tp) < end]
        if not pending:
            return
        data = await consumer.getmany(*pending, timeout_ms=1000, max_records=20_000)
        for tp, records in data.items():
            records = [r for r in records if r.offset < upto[tp]]
            if not records:
                continue
            batch = decode_events(tp.topic, tp.partition, records, spec.decode)
            found = await spec.lookup(batch)
            await asyncio.to_thread(sink.write, batch, found)
            progress.read += len(records)
            if await consumer.position(tp) > upto[tp]:
                consumer.seek(tp, upto[tp])  # fetched past the mark: stop there
