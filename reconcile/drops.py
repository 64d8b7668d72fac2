"""The drop-directory watcher: a timer of the Faust app that applies new files,
as they arrive or at the configured times (STATFLOW_RECONCILE_AT)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from zoneinfo import ZoneInfo

import faust

from reconcile.apply import apply_dir
from reconcile.schedule import due, parse_times
from streams.context import Context

log = logging.getLogger("statflow.drops")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def register(app: faust.App, ctx: Context) -> None:
    drop = ctx.settings.drop_dir
    if drop is None:
        return
    times = parse_times(ctx.settings.reconcile_at)
    last: list[dt.datetime] = []

    @app.timer(interval=float(ctx.settings.drop_poll_seconds))
    async def watch_drop_dir() -> None:
        now = dt.datetime.now(STOCKHOLM)
        if not drop.is_dir() or not due(now, last[-1] if last else None, times):
            return
        last[:] = [now]
        for outcome in await asyncio.to_thread(apply_dir, ctx.store, drop):
            if outcome.status == "applied" and outcome.kind == "hsa/units":
                await ctx.cache.refill()  # the lookup cache follows the new catalogue
            if outcome.status != "unchanged":
                log.info("file drop", extra={"file": outcome.name, "status": outcome.status,
                                             "corrected": outcome.corrected})  # fmt: skip
