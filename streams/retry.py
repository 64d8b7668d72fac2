"""Wait out a failing sink: retry with capped exponential back-off, never skip."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core import metrics
from core.errors import SinkError

log = logging.getLogger("statflow.retry")
T = TypeVar("T")


async def until_written(attempt: Callable[[], Awaitable[T]], topic: str) -> T:
    delay = 0.2
    while True:
        try:
            return await attempt()
        except SinkError as exc:
            metrics.inc("statflow_sink_failures_total", topic=topic)
            log.error("sink write failed, retrying", extra={"error": str(exc), "delay": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
