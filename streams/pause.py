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
from collections.abc import Mapping, Sequence
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
    heartbeats(store, worker, {topic: partitions}, paused_epoch)


def heartbeats(store: ClickHouseStore, worker: str, held: Mapping[str, Sequence[int]],
               paused_epoch: int = 0) -> None:  # fmt: skip
    """One heartbeat row per topic of `held` (topic -> partitions), in one insert."""
    if not held:
        return
    topics = sorted(held)
    store.command(
        "INSERT INTO worker_heartbeats (worker, topic, at, partitions, paused_epoch) "
        "SELECT {w:String}, tupleElement(x, 1), now64(3), tupleElement(x, 2), {e:UInt64} "
        "FROM (SELECT arrayJoin(arrayZip({ts:Array(String)}, {ps:Array(Array(Int32))})) AS x)",
        {"w": worker, "ts": topics, "ps": [list(held[t]) for t in topics], "e": paused_epoch},
    )


class PauseWatch:
    """Every ingest loop of a process, watched together: one heartbeat insert
    for all its topics every HEARTBEAT_EVERY, one look at all their pause
    leases every LOOK_EVERY, in a task beside the loops, so that their round
    trips to ClickHouse never sit between two writes. Each loop alone cost
    two queries a second and a part (files, a later merge) every two seconds,
    idle or not. Batching the rows is all this shares: what counts is still
    what ClickHouse holds, and each loop still stops and acknowledges a pause
    itself (`PausePoint`)."""

    def __init__(self, store: ClickHouseStore, worker: str) -> None:
        self.store, self.worker = store, worker
        self._leases = Leases(store)
        self._partitions: dict[str, list[int]] = {}  # topic -> partitions, as its loop last said
        self._held: dict[str, bool] = {}  # topic -> the last look found its pause lease held
        self._looked_at = 0.0  # when that look started
        self._beat = 0.0
        self._looked = 0.0
        self._round: asyncio.Task[None] | None = None

    def report(self, topic: str, partitions: Sequence[int]) -> tuple[bool, float]:
        """The loop of `topic` holds `partitions`; whether the last look found
        the topic's pause lease held, and when that look started (monotonic)."""
        self._partitions[topic] = list(partitions)
        if self._round is not None and self._round.done():
            if (exc := self._round.exception()) is not None:
                log.warning("pause lease look failed; looking again",
                            extra={"error": type(exc).__name__})  # fmt: skip
            self._round = None
        now = time.monotonic()
        due = now - self._beat >= HEARTBEAT_EVERY or now - self._looked >= LOOK_EVERY
        if self._round is None and due:
            self._round = asyncio.create_task(self._watch(now))
        return self._held.get(topic, False), self._looked_at

    async def _watch(self, now: float) -> None:
        held = dict(self._partitions)
        if now - self._beat >= HEARTBEAT_EVERY:
            self._beat = now
            await asyncio.to_thread(heartbeats, self.store, self.worker, held)
        if now - self._looked >= LOOK_EVERY:
            self._looked = now
            names = {pause_lease(t): t for t in held}
            states, at = await asyncio.to_thread(self._leases.states, sorted(names))
            self._held = {t: states[n].held(at) for n, t in names.items()}
            self._looked_at = now


class PausePoint:
    """One worker loop's side: heartbeat and look at the lease between
    batches (through the process's `PauseWatch`), and wait while a backfill
    swaps the topic's tables.

    The first call heartbeats and looks at the lease itself, before the
    loop's first write. After that the watch does both beside the loop; a
    look that found the lease held makes the loop stop here, and only the
    loop, stopped with nothing in flight, writes the acknowledging row."""

    def __init__(self, watch: PauseWatch, topic: str) -> None:
        self.watch, self.topic = watch, topic
        self.store, self.worker = watch.store, watch.worker
        self._leases = Leases(watch.store)
        self._started = False
        self._resumed = 0.0  # when the loop last went on after a pause (monotonic)

    async def __call__(self, partitions: Sequence[int]) -> None:
        if not self._started:
            # alive to a backfill before the first look: it waits for this loop
            self._started = True
            await asyncio.to_thread(heartbeat, self.store, self.worker, self.topic, partitions)
            await self._stop_while_held(partitions)
            return
        held, looked_at = self.watch.report(self.topic, partitions)
        if held and looked_at >= self._resumed:  # not a look from before the last pause
            await self._stop_while_held(partitions)

    async def _stop_while_held(self, partitions: Sequence[int]) -> None:
        logged = False
        while True:
            state, at = await asyncio.to_thread(self._leases.state, pause_lease(self.topic))
            if not state.held(at):
                self._resumed = time.monotonic()
                return
            if not logged:
                log.info("ingest paused for a backfill", extra={"topic": self.topic})
                logged = True
            # nothing is in flight here: this row tells the backfill so
            await asyncio.to_thread(
                heartbeat, self.store, self.worker, self.topic, partitions, state.epoch
            )
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
