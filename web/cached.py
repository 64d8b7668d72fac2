"""A figure many requests ask for at once, computed once for all of them.

The live view and the API's /metrics read the same shared figures: about ten
ClickHouse queries and a Kafka connection for the end offsets. Every scrape
and every open live page used to run all of them; a poll every 20 ms (the
freshness bench's counter) or a few Prometheus replicas made the API process
and the broker spend a core on it, beside the ingest they report on. The
figures describe seconds-old state anyway, so each result serves the requests
of the next `max_age` seconds, and requests arriving while it is computed wait
for that one computation instead of starting their own. This is a cache of a
read in one process only: nothing is decided from it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Shared(Generic[T]):
    def __init__(self, compute: Callable[[], Awaitable[T]], max_age: float) -> None:
        self._compute = compute
        self._max_age = max_age
        self._value: tuple[float, T] | None = None  # (monotonic time it was asked for, value)
        self._running: asyncio.Future[T] | None = None

    async def get(self) -> T:
        now = time.monotonic()
        if self._value is not None and now - self._value[0] < self._max_age:
            return self._value[1]
        if self._running is None:
            self._running = asyncio.ensure_future(self._refresh(now))
        # shielded: one waiter's cancelled request does not cancel the others'
        return await asyncio.shield(self._running)

    async def _refresh(self, asked: float) -> T:
        try:
            value = await self._compute()
            self._value = (asked, value)
            return value
        finally:
            self._running = None  # a failure is not kept: the next request tries again
