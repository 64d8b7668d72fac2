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
from sinks.leases import LeaseBusy
from streams.context import Context

log = logging.getLogger("statflow.drops")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def register(app: faust.App, ctx: Context) -> None:
    drop = ctx.settings.drop_dir
    if drop is None:
        return
    times = parse_times(ctx.settings.reconcile_at)
    last: list[dt.datetime] = []

    @app.timer(interval=float(ctx.settings.drop_poll_seconds))  # type: ignore[untyped-decorator]
    async def watch_drop_dir() -> None:
        now = dt.datetime.now(STOCKHOLM)
        if not drop.is_dir() or not due(now, last[-1] if last else None, times):
            return
        before = list(last)
        last[:] = [now]
        try:
            # every worker may watch the drop; one applies (the lease), the
            # others find the files known on their next round
            outcomes = await asyncio.to_thread(apply_dir, ctx.store, drop, 0.0)
        except LeaseBusy:
            last[:] = before  # another process is applying: look again next round
            return
        for outcome in outcomes:
            if outcome.status == "applied" and outcome.kind == "hsa/units":
                await ctx.cache.refill()  # the lookup cache follows the new catalogue
            if outcome.status != "unchanged":
                log.info("file drop", extra={"file": outcome.name, "status": outcome.status,
                                             "corrected": outcome.corrected})  # fmt: skip
