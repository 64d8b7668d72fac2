"""Pausing a topic's ingest for a backfill's swap, across processes.

The backfill (any process) claims the lease `pause/<topic>` in ClickHouse
(sinks/leases.py). Every worker's ingest loop, between batches (nothing in
flight), looks at that lease at most once a second and writes a heartbeat row
per topic (`worker_heartbeats`: worker, partitions held, and the pause epoch
it has stopped for). While the lease is held the loop writes nothing and
acknowledges the epoch. The backfill swaps only once every worker alive for
the topic has acknowledged (or stopped heartbeating: a dead worker's
partitions go to a worker that looks at the lease before its first batch).
The acknowledgement, not the polling period, is what makes the swap safe;
a worker stalled inside one batch for longer than LIVE_WINDOW is the zombie
case the checkpoint's epoch check fences.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import StatflowError
from sinks.clickhouse import ClickHouseStore
from sinks.leases import Leases, LeaseState

log = logging.getLogger("statflow.pause")

LIVE_WINDOW = dt.timedelta(seconds=30)  # a worker silent this long counts as gone
HEARTBEAT_EVERY = 2.0  # seconds between a running loop's heartbeats
LOOK_EVERY = 1.0  # seconds between a running loop's looks at the pause lease
PAUSE_TTL = 120.0  # seconds; renewed while the swap runs, freed if its process dies


class PauseTimeout(StatflowError):
    """Workers did not stop writing the topic in time; nothing was swapped."""


def pause_lease(topic: str) -> str:
    return f"pause/{topic}"


@dataclass(frozen=True)
class Beat:
    worker: str
    last_at: dt.datetime
    acked_at: dt.datetime | None  # newest heartbeat acknowledging the epoch


def waiting_for(beats: Sequence[Beat], now: dt.datetime,
                live_window: dt.timedelta = LIVE_WINDOW) -> list[str]:  # fmt: skip
    """Workers the swap must still wait for, pure: alive (a heartbeat within
    the window) and not yet stopped for this pause's epoch."""
    return sorted(b.worker for b in beats if b.last_at > now - live_window and b.acked_at is None)


BEATS = (
    "SELECT worker, max(at), maxIf(at, paused_epoch = {e:UInt64}), "
    "countIf(paused_epoch = {e:UInt64}) FROM worker_heartbeats "
    "WHERE topic = {t:String} AND at > now64(3) - INTERVAL 1 HOUR GROUP BY worker"
)


def beats(store: ClickHouseStore, topic: str, epoch: int) -> list[Beat]:
    return [
        Beat(str(w), _utc(last), _utc(acked) if n else None)
        for w, last, acked, n in store.query_rows(BEATS, {"t": topic, "e": epoch})
    ]


def heartbeat(store: ClickHouseStore, worker: str, topic: str, partitions: Sequence[int],
              paused_epoch: int = 0) -> None:  # fmt: skip
    store.command(
        "INSERT INTO worker_heartbeats (worker, topic, at, partitions, paused_epoch) "
        "SELECT {w:String}, {t:String}, now64(3), {p:Array(Int32)}, {e:UInt64}",
        {"w": worker, "t": topic, "p": list(partitions), "e": paused_epoch},
    )


class PausePoint:
    """One worker loop's side: look at the lease between batches, heartbeat,
    and wait while a backfill swaps the topic's tables.

    The first call looks at the lease before the loop's first write. After
    that, heartbeats and looks run beside the loop (a task of their own) so
    that their round trips to ClickHouse do not sit between two writes; only
    a look that found the lease held makes the loop stop here, and only the
    loop, stopped with nothing in flight, writes the acknowledging row."""

    def __init__(self, store: ClickHouseStore, topic: str, worker: str) -> None:
        self.store, self.topic, self.worker = store, topic, worker
        self._leases = Leases(store)
        self._looked = 0.0
        self._beat = 0.0
        self._held = False  # the last look found the pause lease held
        self._beside: asyncio.Task[None] | None = None

    async def __call__(self, partitions: Sequence[int]) -> None:
        if self._looked == 0.0 or self._held:
            if self._beat == 0.0:
                # alive to a backfill before the first look: it waits for this loop
                self._beat = time.monotonic()
                await asyncio.to_thread(heartbeat, self.store, self.worker, self.topic, partitions)
            self._looked = time.monotonic()
            await self._stop_while_held(partitions)
            return
        if self._beside is not None and not self._beside.done():
            return
        if self._beside is not None and self._beside.exception() is not None:
            log.warning("pause lease look failed; looking again",
                        extra={"topic": self.topic,
                               "error": type(self._beside.exception()).__name__})  # fmt: skip
        now = time.monotonic()
        if now - self._beat >= HEARTBEAT_EVERY or now - self._looked >= LOOK_EVERY:
            self._beside = asyncio.create_task(self._look(list(partitions), now))

    async def _look(self, partitions: Sequence[int], now: float) -> None:
        if now - self._beat >= HEARTBEAT_EVERY:
            self._beat = now
            await asyncio.to_thread(heartbeat, self.store, self.worker, self.topic, partitions)
        if now - self._looked >= LOOK_EVERY:
            self._looked = now
            state, at = await asyncio.to_thread(self._leases.state, pause_lease(self.topic))
            self._held = state.held(at)

    async def _stop_while_held(self, partitions: Sequence[int]) -> None:
        if self._beside is not None:
            await asyncio.gather(self._beside, return_exceptions=True)
            self._beside = None
        logged = False
        while True:
            state, at = await asyncio.to_thread(self._leases.state, pause_lease(self.topic))
            if not state.held(at):
                self._held = False
                return
            if not logged:
                log.info("ingest paused for a backfill", extra={"topic": self.topic})
                logged = True
            # nothing is in flight here: this row tells the backfill so
            await asyncio.to_thread(
                heartbeat, self.store, self.worker, self.topic, partitions, state.epoch
            )
            self._beat = time.monotonic()
            await asyncio.sleep(0.5)


async def pause_ingest(store: ClickHouseStore, topic: str, holder: str,
                       timeout: float = 120.0) -> LeaseState:  # fmt: skip
    """Claim the topic's pause and wait until every live worker has stopped
    writing it. The caller releases the lease (`resume_ingest`)."""
    leases = Leases(store)
    deadline = time.monotonic() + timeout
    name = pause_lease(topic)
    while (state := await asyncio.to_thread(leases.acquire, name, holder, PAUSE_TTL)) is None:
        if time.monotonic() > deadline:
            raise PauseTimeout(f"{topic}'s ingest is paused by another process; try again later")
        await asyncio.sleep(0.5)
    while True:
        found = await asyncio.to_thread(beats, store, topic, state.epoch)
        now = await asyncio.to_thread(leases.now)
        left = waiting_for(found, now)
        if not left:
            log.info("ingest paused", extra={"topic": topic, "epoch": state.epoch})
            return state
        if time.monotonic() > deadline:
            await asyncio.to_thread(leases.release, name, holder, state.epoch)
            raise PauseTimeout(
                f"{len(left)} worker(s) did not pause {topic} within {timeout:.0f} s; "
                "nothing was swapped, try again"
            )
        await asyncio.sleep(0.3)


async def resume_ingest(store: ClickHouseStore, topic: str, holder: str, epoch: int) -> None:
    await asyncio.to_thread(Leases(store).release, pause_lease(topic), holder, epoch)


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)
