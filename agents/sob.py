"""`sob.transactions.v1`: batched; the lifecycle is kept by ClickHouse views."""

from __future__ import annotations

import faust

from agents.wiring import register_batched
from schemas.events import sob_decoder
from schemas.topics import SOB_TRANSACTIONS
from sinks.sob import SOB_TABLE
from streams.context import Context


def register(app: faust.App, ctx: Context) -> None:
    decode = sob_decoder(ctx.settings.max_message_bytes)
    register_batched(app, ctx, SOB_TRANSACTIONS, decode, SOB_TABLE)
