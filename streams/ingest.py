"""The batched Kafka loop for high-volume topics (run as a service of the Faust app).

A per-message Faust stream moves about 5 k msg/s here; aiokafka's `getmany`
with one columnar insert per batch moves 20x that (DESIGN.md), so calls take
this path. Per getmany (every partition's batch together) the order is
fixed, and it is what makes a crash at any point safe:

  1. decode and validate (pure; the next getmany is decoded while this one
     is written),
  2. write accepted rows (sink, idempotent by event_id; one block per month
     for all partitions),
  3. send rejects to the DLQ and wait for the broker's ack,
  4. write the checkpoints (next offsets, one insert) to ClickHouse,
  5. commit to Kafka (for lag tools only; ClickHouse is the authority).

On (re)assignment each partition seeks to the sink's resume offset; records
read before that seek are dropped (Kafka delivers them again), so every batch
starts at its partition's checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from core import metrics
from core.errors import PartitionFenced
from core.settings import Settings
from schemas.pipeline import Decoded, Record, Rejected
from streams.retry import until_written

log = logging.getLogger("statflow.ingest")


@dataclass(frozen=True)
class Pipeline:
    """What one high-volume topic plugs into the loop."""

    topic: str
    dlq_topic: str
    decode: Callable[[str, int, Sequence[Record]], Decoded[Any]]
    # one getmany's batches, one per partition, written together
    write: Callable[[Sequence[Decoded[Any]]], Awaitable[int]]
    resume: Callable[[str, int], int]  # blocking; run in a thread
    # topic, {partition: next offset}: blocking; run in a thread
    checkpoint: Callable[[str, Mapping[int, int]], None]
    # between writes: heartbeat, and wait while a backfill swaps (streams/pause.py)
    pause: Callable[[Sequence[int]], Awaitable[None]] | None = None


def dlq_headers(r: Rejected) -> list[tuple[str, bytes]]:
    # the names are DLQ_HEADERS (schemas/topics.py), documented in the AsyncAPI document
    m = r.message
    return [
        ("error", r.reason.encode("utf-8")),
        ("source-topic", m.topic.encode()),
        ("source-partition", str(m.partition).encode()),
        ("source-offset", str(m.offset).encode()),
    ]


class DeadLetters:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def send(self, dlq_topic: str, rejected: Sequence[Rejected]) -> None:
        futures = []
        for r in rejected:
            m = r.message
            futures.append(
                await self._producer.send(dlq_topic, m.value, key=m.key, headers=dlq_headers(r))
            )
        if futures:
            await asyncio.gather(*futures)


def make_producer(settings: Settings) -> AIOKafkaProducer:
    # A rejected message may be a 1 MB payload; the DLQ must still take it.
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        max_request_size=4 * 1024 * 1024,
        linger_ms=5,
    )


class _Seek(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: BatchLoop) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Kafka hands a revoked partition to another worker only after every
        # member has returned from this call. Waiting here for the batch in
        # flight means its rows and checkpoint are in before the new owner
        # reads the checkpoint: two workers never write one partition at once.
        async with self._loop.busy:
            for tp in revoked:
                self._loop.checkpointed.pop(tp, None)
                self._loop.reading.pop(tp, None)
                # The new owner reports this partition's lag from now on.
                metrics.forget("statflow_consumer_lag", topic=tp.topic, partition=str(tp.partition))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        for tp in sorted(assigned):
            offset = await asyncio.to_thread(self._loop.pipeline.resume, tp.topic, tp.partition)
            self._loop.seek(tp, offset)
            log.info(
                "partition assigned",
                extra={"topic": tp.topic, "partition": tp.partition, "offset": offset},
            )


class BatchLoop:
    def __init__(self, settings: Settings, pipeline: Pipeline, dead: DeadLetters) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.dead = dead
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            # One group per pipeline: a rebalance of one topic's consumers must
            # not revoke another topic's partitions mid-batch.
            group_id=f"{settings.consumer_group}.{pipeline.topic}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
            # A ClickHouse outage is waited out inside the loop; do not let the
            # group evict us for it.
            max_poll_interval_ms=30 * 60 * 1000,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            # aiokafka's default 3 s, or a third of a shorter session
            heartbeat_interval_ms=min(3000, settings.kafka_session_timeout_ms // 3),
        )
        self._stopping = asyncio.Event()
        # The checkpoint each partition's next write starts from, and where
        # its next decoded batch starts (ahead of it while a write runs).
        self.checkpointed: dict[TopicPartition, int] = {}
        self.reading: dict[TopicPartition, int] = {}
        # Partitions sought since the last getmany returned. The listener runs
        # while the loop awaits a write, so records already in hand for such a
        # partition were read from where the consumer was before the seek.
        self._sought: set[TopicPartition] = set()
        # Held while a batch is written and checkpointed (see _Seek).
        self.busy = asyncio.Lock()

    async def run(self) -> None:
        self.consumer.subscribe([self.pipeline.topic], listener=_Seek(self))
        await self.consumer.start()
        writing: asyncio.Task[dict[TopicPartition, int]] | None = None
        try:
            while not self._stopping.is_set():
                data = await self.consumer.getmany(
                    timeout_ms=self.settings.batch_timeout_ms,
                    max_records=self.settings.batch_max_records,
                )
                # getmany returns right after draining its buffers, without
                # yielding: a seek before this line already shaped `data`.
                self._sought.clear()
                # Decoded (pure Python, in a thread) while the previous
                # getmany's write runs: chDB releases the GIL while it
                # inserts, so the two use both cores instead of taking turns.
                decoded = await asyncio.to_thread(self._decode_all, list(data.items()))
                if writing is not None:
                    done, writing = await writing, None
                    await self._commit(done)
                    await self._report_lag()
                # nothing in flight here: the one place a backfill's pause is honoured
                await self._pause_point()
                batches = self._next(decoded)
                if batches:
                    writing = asyncio.create_task(self._write_all(batches))
            if writing is not None:
                await self._commit(await writing)
                writing = None
        finally:
            if writing is not None:
                writing.cancel()
            await self.consumer.stop()

    def _next(self, decoded: Sequence[Decoded[Any] | None]) -> list[Decoded[Any]]:
        """The decoded batches that continue where their partition's reading
        stands (none a seek overtook while they were decoded); reading moves
        on past them."""
        out = []
        for d in decoded:
            if d is None:
                continue
            tp = TopicPartition(d.topic, d.partition)
            if tp in self._sought or self.reading.get(tp) != d.start_offset:
                continue
            self.reading[tp] = d.next_offset
            out.append(d)
        return out

    async def _pause_point(self) -> None:
        """A backfill swapping this topic's tables, in any process, holds its
        pause lease in ClickHouse; no write is in flight here, so the pause
        point acknowledges it and waits (a seek meanwhile lands in _sought, and
        the batch decoded before it is dropped by `_next`)."""
        if self.pipeline.pause is not None:
            await self.pipeline.pause(sorted(tp.partition for tp in self.consumer.assignment()))

    def stop(self) -> None:
        self._stopping.set()

    def seek(self, tp: TopicPartition, offset: int) -> None:
        """Read `tp` from its checkpoint `offset` next."""
        self.consumer.seek(tp, offset)
        self.checkpointed[tp] = offset
        self.reading[tp] = offset
        self._sought.add(tp)

    async def _write_all(self, batches: list[Decoded[Any]]) -> dict[TopicPartition, int]:
        """Write every partition's batch of one getmany together; return their
        checkpoints.

        One write (one seen-id lookup, one block per month for all
        partitions), one round of DLQ sends, one checkpoint insert for all
        partitions: per-write costs are paid once per getmany, not once per
        partition.
        """
        # The revocation listener waits for `busy` (see _Seek).
        async with self.busy:
            # sought while decoded or waiting: read again from there
            decoded = [
                d
                for d in batches
                if (tp := TopicPartition(d.topic, d.partition)) not in self._sought
                and self.checkpointed.get(tp) == d.start_offset
            ]
            if not decoded:
                return {}
            topic = self.pipeline.topic
            try:
                written = await until_written(lambda: self.pipeline.write(decoded), topic)
                rejected = [r for d in decoded for r in d.rejected]
                await self.dead.send(self.pipeline.dlq_topic, rejected)
                ends = {d.partition: d.next_offset for d in decoded}
                await until_written(
                    lambda: asyncio.to_thread(self.pipeline.checkpoint, topic, ends), topic
                )
            except PartitionFenced as exc:
                self._fenced(decoded, exc.partitions)
                return {}
            done = {TopicPartition(d.topic, d.partition): d.next_offset for d in decoded}
            self.checkpointed.update(done)
        metrics.inc("statflow_events_accepted_total", written, topic=topic)
        metrics.inc("statflow_events_rejected_total", len(rejected), topic=topic)
        metrics.inc(
            "statflow_events_duplicate_total", sum(d.duplicates for d in decoded), topic=topic
        )
        metrics.inc("statflow_batches_total", len(decoded), topic=topic)
        return done

    def _fenced(self, decoded: Sequence[Decoded[Any]], lost: Sequence[int]) -> None:
        """Another worker claimed `lost` while this one stalled (the write or
        checkpoint was refused, sinks/fencing.py): read nothing more of them
        until Kafka assigns them here again (its seek restores them). The
        write's other partitions are read again from their checkpoints."""
        for d in decoded:
            tp = TopicPartition(d.topic, d.partition)
            if d.partition in lost:
                self.checkpointed.pop(tp, None)
                self.reading.pop(tp, None)
            elif tp in self.checkpointed:
                self.seek(tp, self.checkpointed[tp])

    def _decode_all(
        self, jobs: list[tuple[TopicPartition, Sequence[Any]]]
    ) -> list[Decoded[Any] | None]:
        return [self._decode(tp, records) for tp, records in jobs]

    def _decode(self, tp: TopicPartition, records: Sequence[Any]) -> Decoded[Any] | None:
        """One partition's batch from where its reading stands, decoded; None to skip."""
        start = self.reading.get(tp)
        if start is None or tp in self._sought:
            # Read before our listener sought this partition to its checkpoint
            # (from Kafka's committed offset, or by an earlier assignment): the
            # consumer's position had moved past them, so they need not start
            # at the checkpoint, and a batch of them would skip the records in
            # between for good. The seek makes Kafka deliver all of them again.
            return None
        if records and records[0].offset < start:  # a partition's records come in offset order
            records = [r for r in records if r.offset >= start]
        if not records:
            return None
        # aiokafka's records as they are (schemas.pipeline.Record): no copy per message
        decoded = self.pipeline.decode(tp.topic, tp.partition, records)
        decoded.start_offset = start
        return decoded

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        # Outside `busy`: a commit may wait on the group's rebalance, which
        # waits on `busy` (_Seek.on_partitions_revoked).
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except Exception as exc:  # noqa: BLE001 - advisory only; ClickHouse is the authority
            log.warning("kafka commit failed", extra={"error": str(exc)})

    async def _report_lag(self) -> None:
        for tp in self.consumer.assignment():
            end = self.consumer.highwater(tp)
            pos = await self.consumer.position(tp) if end is not None else None
            if end is not None and pos is not None:
                metrics.gauge(
                    "statflow_consumer_lag",
                    max(end - pos, 0),
                    topic=tp.topic,
                    partition=str(tp.partition),
                )
