"""Every event topic of the batched loop, one row each: topic declaration, the
table its events go to and, if its rows need one, a lookup made per batch. A
topic whose events need no lookup needs no module of its own: a row here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import faust

from agents.wiring import Lookup, no_lookup, register_batched
from schemas.events import NtjpCall
from schemas.pipeline import Decoded
from schemas.topics import (
    ETJ_CASES,
    ETJ_LOGINS,
    NTJP_CALLS,
    SOB_TRANSACTIONS,
    TopicSpec,
    decoder_for,
)
from sinks.etj import CASES_TABLE, LOGINS_TABLE
from sinks.events import EventTable
from sinks.ntjp import CALLS_TABLE
from sinks.sob import SOB_TABLE
from streams.backfill import Replayable
from streams.context import Context
from streams.pause import PauseWatch


def call_counties(ctx: Context) -> Lookup:
    """`ntjp.calls.v1` rows carry the unit's county, from the Redis cache."""

    async def counties(batch: Decoded[NtjpCall]) -> Mapping[str, str]:
        return await ctx.cache.county_of(c.logical_address for _, c in batch.accepted)

    return counties


# (topic, table, the lookup a batch needs given the runtime context)
EVENT_TOPICS: tuple[tuple[TopicSpec, EventTable[Any], Callable[[Context], Lookup] | None], ...] = (
    (NTJP_CALLS, CALLS_TABLE, call_counties),
    # the SOB lifecycle is kept by ClickHouse views
    (SOB_TRANSACTIONS, SOB_TABLE, None),
    (ETJ_CASES, CASES_TABLE, None),
    (ETJ_LOGINS, LOGINS_TABLE, None),
)


def replayable(ctx: Context, topic: str) -> Replayable | None:
    """How to replay an event topic (its full name), from the declaration
    above: any process can start a backfill, not only one that ingests it."""
    for spec, table, lookup in EVENT_TOPICS:
        if spec.full(ctx.settings) == topic:
            decode = decoder_for(spec, ctx.settings)
            return Replayable(decode, table, lookup(ctx) if lookup else no_lookup)
    return None


def register(app: faust.App, ctx: Context) -> None:
    # one heartbeat and one look at the pause leases for all the loops
    watch = PauseWatch(ctx.store, ctx.worker_id)
    for spec, table, lookup in EVENT_TOPICS:
        # the contract as this deployment enforces it (released + extensions)
        decode = decoder_for(spec, ctx.settings)
        found = lookup(ctx) if lookup else no_lookup
        register_batched(app, ctx, spec, decode, table, found, watch)
