"""`ntjp.calls.v1`: pure per-batch decoding and the ClickHouse sink for calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import faust

from agents.batch import Decoded, RawMessage, Rejected
from schemas.events import NtjpCall, call_decoder
from sinks.calls import CallsSink
from statflow.errors import ValidationError
from streams.context import Context
from streams.ingest import BatchLoop, DeadLetters, Pipeline, make_producer
from streams.topics import NTJP_CALLS

log = logging.getLogger("statflow.agents.calls")

CallDecoder = Callable[[bytes | None], NtjpCall]


def decode_calls(
    topic: str, partition: int, messages: Sequence[RawMessage], decode: CallDecoder
) -> Decoded[NtjpCall]:
    """Validate one partition's messages; keep the first of repeated event ids."""
    out: Decoded[NtjpCall] = Decoded(topic, partition, messages[-1].offset + 1)
    ids: set[str] = set()
    for msg in messages:
        try:
            call = decode(msg.value)
        except ValidationError as exc:
            out.rejected.append(Rejected(msg, str(exc)))
            continue
        if call.event_id in ids:
            out.duplicates += 1
            continue
        ids.add(call.event_id)
        out.accepted.append((msg, call))
    return out


def register(app: faust.App, ctx: Context) -> None:
    """Run the batched calls loop as a task of the Faust app."""
    s = ctx.settings
    sink = CallsSink(ctx.store)
    decode = call_decoder(s.max_message_bytes)

    async def write(batch: Decoded[NtjpCall]) -> int:
        county_of = await ctx.cache.county_of(c.logical_address for _, c in batch.accepted)
        return await asyncio.to_thread(sink.write, batch, county_of)

    pipeline = Pipeline(
        topic=NTJP_CALLS.full(s),
        dlq_topic=NTJP_CALLS.dlq(s),
        decode=lambda topic, partition, msgs: decode_calls(topic, partition, msgs, decode),
        write=write,
        resume=sink.resume,
        checkpoint=sink.checkpoints.put,
    )

    @app.task
    async def ntjp_calls() -> None:
        # Faust would log a crashed task and carry on without it; ingest must
        # not silently stop, so the loop is rebuilt (it resumes from ClickHouse).
        while True:
            producer = make_producer(s)
            try:
                await producer.start()
                await BatchLoop(s, pipeline, DeadLetters(producer)).run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("calls ingest loop failed; restarting in 2 s")
                await asyncio.sleep(2)
            finally:
                await producer.stop()
