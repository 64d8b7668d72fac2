"""The drop-directory watcher: a timer of the Faust app that applies new files."""

from __future__ import annotations

import asyncio
import logging

import faust

from reconcile.apply import apply_dir
from streams.context import Context

log = logging.getLogger("statflow.drops")


def register(app: faust.App, ctx: Context, every: float = 10.0) -> None:
    drop = ctx.settings.drop_dir
    if drop is None:
        return

    @app.timer(interval=every)
    async def watch_drop_dir() -> None:
        if not drop.is_dir():
            return
        for outcome in await asyncio.to_thread(apply_dir, ctx.store, drop):
            if outcome.status == "applied" and outcome.kind == "hsa/units":
                await ctx.cache.refill()  # the lookup cache follows the new catalogue
            if outcome.status != "unchanged":
                log.info("file drop", extra={"file": outcome.name, "status": outcome.status,
                                             "corrected": outcome.corrected})  # fmt: skip
