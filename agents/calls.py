"""`ntjp.calls.v1`: batched, enriched with the unit's county from the Redis cache."""

from __future__ import annotations

from collections.abc import Mapping

import faust

from agents.wiring import register_batched
from schemas.events import NtjpCall, call_decoder
from schemas.pipeline import Decoded
from schemas.topics import NTJP_CALLS
from sinks.calls import CALLS_TABLE
from streams.context import Context


def register(app: faust.App, ctx: Context) -> None:
    async def counties(batch: Decoded[NtjpCall]) -> Mapping[str, str]:
        return await ctx.cache.county_of(c.logical_address for _, c in batch.accepted)

    decode = call_decoder(ctx.settings.max_message_bytes)
    register_batched(app, ctx, NTJP_CALLS, decode, CALLS_TABLE, counties)
