"""Wire an event topic into the batched loop as a task of the Faust app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import faust

from schemas.pipeline import Decoded, HasEventId, decode_events
from schemas.topics import TopicSpec
from sinks import dead_letters
from sinks.events import EventSink, EventTable
from sinks.fencing import Fence
from streams.context import Context
from streams.ingest import BatchLoop, DeadLetters, Pipeline, make_producer
from streams.pause import PausePoint, PauseWatch

log = logging.getLogger("statflow.agents")

Lookup = Callable[[Decoded[Any]], Awaitable[Mapping[str, str]]]


async def no_lookup(_: Decoded[Any]) -> Mapping[str, str]:
    return {}


def merged(batches: Sequence[Decoded[Any]]) -> Decoded[Any]:
    """One batch holding every accepted event of `batches`, for a lookup."""
    out: Decoded[Any] = Decoded(batches[0].topic, -1, 0)
    out.accepted = [pair for b in batches for pair in b.accepted]
    return out


def register_batched(
    app: faust.App,
    ctx: Context,
    spec: TopicSpec,
    decode: Callable[[bytes | None], HasEventId],
    table: EventTable[Any],
    lookup: Lookup,
    watch: PauseWatch,
) -> None:
    """`watch` is the process's, shared by every topic's loop (streams/pause.py)."""
    s = ctx.settings
    sink: EventSink[Any] = EventSink(ctx.store, table)
    # this process's claims on the topic's partitions (sinks/fencing.py)
    fence = Fence(ctx.store, spec.full(s), ctx.worker_id)

    def resume(topic: str, partition: int) -> int:
        # Claimed before the checkpoint is read: from here on the previous
        # owner's late writes are refused, so the checkpoint read next is final.
        fence.claim(partition)
        return sink.resume(topic, partition)

    async def write(batches: Sequence[Decoded[Any]]) -> int:
        found = await lookup(merged(batches))
        written = await asyncio.to_thread(sink.write_many, batches, found, fence)
        for batch in batches:
            if batch.rejected:
                token = dead_letters.batch_token(batch)
                await asyncio.to_thread(dead_letters.record, ctx.store, batch.rejected, token)
        return written

    pipeline = Pipeline(
        topic=spec.full(s),
        dlq_topic=spec.dlq(s),
        # decoded and built as the sink's Arrow table while the previous write runs
        decode=lambda topic, partition, msgs: sink.prepare(
            decode_events(topic, partition, msgs, decode)
        ),
        write=write,
        resume=resume,
        checkpoint=fence.checkpoint,
        pause=PausePoint(watch, spec.full(s)),
    )

    async def ingest() -> None:
        # Faust would log a crashed task and carry on without it; ingest must
        # not silently stop, so the loop is rebuilt (it resumes from ClickHouse).
        while True:
            producer = make_producer(s)
            try:
                if table.derived is not None:
                    # a recompute a killed process left half-done (sinks/events.Derived)
                    await asyncio.to_thread(table.derived.heal, ctx.store)
                await producer.start()
                await BatchLoop(s, pipeline, DeadLetters(producer)).run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ingest loop failed; restarting in 2 s", extra={"topic": spec.name})
                await asyncio.sleep(2)
            finally:
                await producer.stop()

    ingest.__name__ = f"ingest_{spec.name.replace('.', '_')}"
    app.task(ingest)
