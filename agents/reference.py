"""Reference topics (compacted): HSA units and persons, NTjP routing, SCB
population, 1177 e-services accounts and units.

Pure functions turn a batch of messages into dimension rows; a tombstone (null
value) becomes a row with deleted = 1 for the message key. The Kafka offset is
the row version, so the newest message per key wins in ReplacingMergeTree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import faust

from core import metrics
from schemas.pipeline import RawMessage
from schemas.topics import (
    ETJ_ACCOUNTS,
    ETJ_UNITS,
    HSA_PERSONS,
    HSA_UNITS,
    NTJP_ROUTING,
    SCB_POPULATION,
    TopicSpec,
    decoder_for,
)
from sinks import dead_letters, etj, etj_rollups
from sinks.dimensions import DimensionBatch, persons, population, routing, units
from streams.context import Context
from streams.ingest import dlq_headers
from streams.retry import until_written

# Every reference topic and the pure function making its dimension rows.
REFERENCE_TOPICS: tuple[tuple[TopicSpec, Callable[..., DimensionBatch]], ...] = (
    (HSA_UNITS, units),
    (HSA_PERSONS, persons),
    (NTJP_ROUTING, routing),
    (SCB_POPULATION, population),
    (ETJ_ACCOUNTS, etj.accounts),
    (ETJ_UNITS, etj.units),
)

# Rollups the sink keeps from a reference table (as sinks/events.Derived does
# for event topics), refreshed after the batch's rows are written: a crash in
# between re-delivers the batch, which writes the same rows and refreshes.
DERIVED: dict[str, Callable[[Any, Any], object]] = {
    "etj_accounts": etj_rollups.refresh_accounts,
}


async def _insert(ctx: Context, batch: DimensionBatch) -> None:
    await asyncio.to_thread(ctx.store.insert_columns, batch.table, batch.columns)
    refresh = DERIVED.get(batch.table)
    if refresh is not None:
        await asyncio.to_thread(refresh, ctx.store, batch.columns)


def register(app: faust.App, ctx: Context) -> None:
    """One Faust agent per reference topic; volume is low, so Faust's own
    per-message streams are fast enough here."""
    for spec, to_rows in REFERENCE_TOPICS:
        reference_agent(app, ctx, spec, to_rows, decoder_for(spec, ctx.settings))


def reference_agent(
    app: faust.App,
    ctx: Context,
    spec: TopicSpec,
    to_rows: Callable[[Sequence[RawMessage], Any], DimensionBatch],
    decode: Any,
) -> None:
    topic_name, dlq_name = spec.full(ctx.settings), spec.dlq(ctx.settings)
    topic = app.topic(
        topic_name,
        partitions=ctx.settings.topic_partitions,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )
    dlq = app.topic(
        dlq_name,
        partitions=1,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )

    async def agent(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(1000, within=1.0):  # type: ignore[attr-defined]
            msgs = [
                RawMessage(
                    e.message.topic,
                    e.message.partition,
                    e.message.offset,
                    e.message.key,
                    e.message.value,
                )
                for e in events
            ]
            batch = to_rows(msgs, decode)
            if batch.columns:
                await until_written(partial(_insert, ctx, batch), topic_name)
            await ctx.cache.put_counties(batch.counties)
            for r in batch.rejected:
                await dlq.send(key=r.message.key, value=r.message.value, headers=dlq_headers(r))
            if batch.rejected:
                await app.producer.flush()
                await asyncio.to_thread(dead_letters.record, ctx.store, batch.rejected)
            metrics.inc(
                "statflow_events_accepted_total", len(msgs) - len(batch.rejected), topic=topic_name
            )
            metrics.inc("statflow_events_rejected_total", len(batch.rejected), topic=topic_name)

    app.agent(topic, name=f"reference-{topic_name}")(agent)
