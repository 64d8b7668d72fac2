"""The batched loop against a consumer that behaves like aiokafka's across a seek.

The rebalance listener resumes each partition from ClickHouse in a thread and
seeks it there, while the loop goes on with the batches already in hand. Records
that `getmany` returned before a partition was sought came from wherever the
consumer was then; the loop must not make a batch of them, or the records
between the checkpoint and those would never be written.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRebalanceListener, TopicPartition

from core.errors import PartitionFenced
from core.settings import Settings
from schemas.pipeline import Decoded, RawMessage, Rejected
from streams.ingest import BatchLoop, Pipeline

TOPIC = "t.calls"
P0 = TopicPartition(TOPIC, 0)
P1 = TopicPartition(TOPIC, 1)


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class FakeConsumer:
    """aiokafka's contract where it matters here: `getmany` hands out buffered
    records and moves the position past them; `seek` moves the position for the
    next fetch and cannot take back records already handed out."""

    def __init__(self, ends: dict[TopicPartition, int], committed: dict[TopicPartition, int]):
        self.ends = ends
        self.position = dict(committed)  # before the listener seeks: Kafka's committed offset
        self.per_call = 10
        self.loop: BatchLoop | None = None
        self.listener: ConsumerRebalanceListener | None = None
        self.assigning: asyncio.Task[None] | None = None

    def subscribe(self, topics: list[str], listener: ConsumerRebalanceListener) -> None:
        self.listener = listener

    async def start(self) -> None:
        # The group coordinator runs the listener as a task of its own.
        assert self.listener is not None
        self.assigning = asyncio.create_task(
            self.listener.on_partitions_assigned(set(self.ends))  # type: ignore[arg-type]
        )

    async def stop(self) -> None:
        if self.assigning is not None:
            await self.assigning

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        await asyncio.sleep(0.01)
        out: dict[TopicPartition, list[Any]] = {}
        for tp in sorted(self.ends):
            pos = self.position[tp]
            n = min(self.per_call, self.ends[tp] - pos)
            if n > 0:
                out[tp] = [
                    Record(tp.topic, tp.partition, o, None, b"x") for o in range(pos, pos + n)
                ]
                self.position[tp] = pos + n
        if not out and self.assigning is not None and self.assigning.done():
            assert self.loop is not None
            self.loop.stop()
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.position[tp] = offset

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        pass

    def assignment(self) -> set[TopicPartition]:
        return set(self.ends)

    def highwater(self, tp: TopicPartition) -> int | None:
        return None


class NoDeadLetters:
    async def send(self, dlq_topic: str, rejected: Sequence[Rejected]) -> None:
        assert not rejected


def decode(topic: str, partition: int, msgs: Sequence[RawMessage]) -> Decoded[RawMessage]:
    return Decoded(topic, partition, msgs[-1].offset + 1, msgs[0].offset, [(m, m) for m in msgs])


async def test_records_read_before_the_seek_are_not_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """p1's checkpoint (100) equals Kafka's committed offset, so the consumer reads
    p1 from 100 before the listener has sought it. The listener's resume of p1
    finishes while the loop writes p0's second batch, whose getmany also returned
    p1's records 110..119; those must not be written as a batch starting at 100."""
    written: list[tuple[int, int, list[int]]] = []  # (partition, start_offset, offsets)
    checkpoints: dict[int, int] = {}
    p1_may_resume = threading.Event()

    def resume(topic: str, partition: int) -> int:
        if partition == 1:  # a slow ClickHouse read: held until p0's second batch
            assert p1_may_resume.wait(10)
            return 100
        return 0

    async def write(batches: Sequence[Decoded[Any]]) -> int:
        for batch in batches:
            offsets = [m.offset for m, _ in batch.accepted]
            written.append((batch.partition, batch.start_offset, offsets))
        p0 = any(b.partition == 0 for b in batches)
        if p0 and len([w for w in written if w[0] == 0]) == 2:
            p1_may_resume.set()
            while P1 not in loop.checkpointed:  # the listener seeks p1 meanwhile
                await asyncio.sleep(0.01)
        return sum(len(b.accepted) for b in batches)

    def checkpoint(topic: str, ends: Mapping[int, int]) -> None:
        checkpoints.update(ends)

    pipeline = Pipeline(TOPIC, "t.dlq", decode, write, resume, checkpoint)
    consumer = FakeConsumer({P0: 30, P1: 160}, committed={P0: 0, P1: 100})
    monkeypatch.setattr("streams.ingest.AIOKafkaConsumer", lambda **_: consumer)
    loop = BatchLoop(Settings(home=tmp_path), pipeline, NoDeadLetters())  # type: ignore[arg-type]
    consumer.loop = loop

    await asyncio.wait_for(loop.run(), 10)

    by_partition: dict[int, list[int]] = {0: [], 1: []}
    for partition, start, offsets in written:
        assert offsets[0] == start, f"batch of p{partition} starts at {offsets[0]}, not {start}"
        by_partition[partition] += offsets
    assert by_partition[0] == list(range(30))
    assert by_partition[1] == list(range(100, 160))
    assert checkpoints == {0: 30, 1: 160}


async def test_a_fenced_partition_is_dropped_and_the_others_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop stalled while another worker claimed p1 (sinks/fencing.py):
    the checkpoint of a write holding p0 and p1 is refused. Nothing more of
    p1 is written or checkpointed here; p0, whose checkpoint was refused with
    it, is read again from its checkpoint, so none of its records is lost."""

    written: list[tuple[int, int, list[int]]] = []
    checkpoints: dict[int, int] = {}
    refused: list[dict[int, int]] = []

    def resume(topic: str, partition: int) -> int:
        return 0

    async def write(batches: Sequence[Decoded[Any]]) -> int:
        for batch in batches:
            written.append(
                (batch.partition, batch.start_offset, [m.offset for m, _ in batch.accepted])
            )
        return sum(len(b.accepted) for b in batches)

    def checkpoint(topic: str, ends: Mapping[int, int]) -> None:
        if 1 in ends and ends[1] >= 20:
            refused.append(dict(ends))
            raise PartitionFenced(topic, (1,))
        checkpoints.update(ends)

    pipeline = Pipeline(TOPIC, "t.dlq", decode, write, resume, checkpoint)
    consumer = FakeConsumer({P0: 40, P1: 40}, committed={P0: 0, P1: 0})
    monkeypatch.setattr("streams.ingest.AIOKafkaConsumer", lambda **_: consumer)
    loop = BatchLoop(Settings(home=tmp_path), pipeline, NoDeadLetters())  # type: ignore[arg-type]
    consumer.loop = loop

    await asyncio.wait_for(loop.run(), 10)

    assert len(refused) == 1
    fenced_at = next(i for i, w in enumerate(written) if w[0] == 1 and w[1] == 10)
    assert not [w for w in written[fenced_at + 1 :] if w[0] == 1], "nothing of p1 after it"
    assert checkpoints[1] == 10  # p1's last checkpoint before the refusal stands
    assert checkpoints[0] == 40
    p0 = [w for w in written if w[0] == 0]
    for _, start, offsets in p0:
        assert offsets[0] == start
    # p0's batch refused with p1 was read again from its checkpoint: every offset written
    assert sorted({o for _, _, offsets in p0 for o in offsets}) == list(range(40))
