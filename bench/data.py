"""The benchmark data: a national-scale synthetic world, calls and SOB transactions,
generated in chunks (a worker process generates while this one produces) and
pre-loaded into Kafka with the project's own producer (lz4, keyed by the contract)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import orjson

from core.settings import Settings
from schemas.topics import (
    HSA_PERSONS,
    HSA_UNITS,
    NTJP_CALLS,
    NTJP_ROUTING,
    SCB_POPULATION,
    SOB_TRANSACTIONS,
    TopicSpec,
)
from streams.admin import ensure_topics
from streams.publish import produce
from synth.stod import make_sob_world, make_transactions
from synth.webbtidbokning import World, make_calls, make_world

SEED = 7
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CHUNK = 200_000
# National scale: ~60 care providers (regions and private), ~2,000 units.
CARE_PROVIDERS = 60
UNITS = 2000
# The full data set: 50 M calls with 2 M SOB transactions.
SOB_PER_CALL = 2 / 50
TX_PER_CASE = 2.7  # what synth.stod.make_transactions yields per case, on average


def world() -> World:
    return make_world(SEED, n_care_providers=CARE_PROVIDERS, n_units=UNITS)


@dataclass(frozen=True)
class Chunk:
    keys: list[bytes]
    values: list[bytes]
    counted: int  # calls the webbtidbokning reports count (four operations)


def windows(
    n: int, chunk: int, start: dt.datetime, end: dt.datetime
) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """Split n events over [start, end) into consecutive windows of at most `chunk`
    events each, so the whole stream stays in time order."""
    if n <= 0:
        return []
    k = -(-n // chunk)
    span = (end - start) / k
    out = []
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        out.append((size, start + span * i, start + span * (i + 1) if i < k - 1 else end))
    return out


def _calls_chunk(index: int, size: int, start: dt.datetime, end: dt.datetime) -> Chunk:
    w = world()
    calls = make_calls(w, start, end, size, seed=SEED * 1_000_003 + index)
    counted_ops = {"GetSubjectOfCareSchedule", "MakeBooking", "CancelBooking", "UpdateBooking"}
    return Chunk(
        [NTJP_CALLS.key_of(c) for c in calls],
        [orjson.dumps(c) for c in calls],
        sum(1 for c in calls if c["operation"] in counted_ops),
    )


def _sob_chunk(index: int, cases: int, start: dt.datetime, end: dt.datetime) -> Chunk:
    txs = make_transactions(make_sob_world(SEED), start, end, cases, seed=SEED * 7919 + index)
    return Chunk(
        [SOB_TRANSACTIONS.key_of(t) for t in txs], [orjson.dumps(t) for t in txs], len(txs)
    )


def _chunk(kind: str, index: int, size: int, start: dt.datetime, end: dt.datetime) -> Chunk:
    return (_calls_chunk if kind == "calls" else _sob_chunk)(index, size, start, end)


def _chunks(kind: str, n: int, pool: ProcessPoolExecutor) -> Iterator[Chunk]:
    if kind == "calls":
        plan = windows(n, CHUNK, START, END)
    else:
        cases = max(1, round(n / TX_PER_CASE))
        plan = windows(cases, max(1, round(CHUNK / TX_PER_CASE)), START, END)
    submit = [(kind, i, size, a, b) for i, (size, a, b) in enumerate(plan)]
    fn = _chunk
    ahead: list[Future[Chunk]] = []
    todo = iter(submit)
    for args in todo:
        ahead.append(pool.submit(fn, *args))
        if len(ahead) >= 2:
            break
    while ahead:
        done = ahead.pop(0).result()
        nxt = next(todo, None)
        if nxt is not None:
            ahead.append(pool.submit(fn, *nxt))
        yield done


@dataclass
class Loaded:
    calls: int = 0
    counted_calls: int = 0  # calls in the four operations the reports count
    sob: int = 0
    seconds: float = 0.0


async def publish_reference(settings: Settings, sob: bool = False) -> None:
    await ensure_topics(settings)
    w = world()
    await produce(settings, HSA_UNITS, [*w.units, *w.unit_moves])
    await produce(settings, NTJP_ROUTING, list(w.routing))
    await produce(settings, SCB_POPULATION, list(w.population))
    if sob:
        sw = make_sob_world(SEED)
        await produce(settings, HSA_UNITS, list(sw.units))
        await produce(settings, HSA_PERSONS, list(sw.practitioners))


async def preload(settings: Settings, kind: str, n: int, progress: bool = True) -> Loaded:
    """Generate and produce `n` calls ("calls") or about `n` SOB transactions ("sob")."""
    import time

    await ensure_topics(settings)
    spec: TopicSpec = NTJP_CALLS if kind == "calls" else SOB_TRANSACTIONS
    out = Loaded()
    t0 = time.monotonic()
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=1) as pool:
        chunks = _chunks(kind, n, pool)
        while True:
            chunk = await loop.run_in_executor(None, next, chunks, None)
            if chunk is None:
                break
            await produce(settings, spec, chunk.values, chunk.keys)
            if kind == "calls":
                out.calls += len(chunk.values)
                out.counted_calls += chunk.counted
            else:
                out.sob += len(chunk.values)
            if progress:
                done = out.calls or out.sob
                print(f"  {kind}: {done:,} produced ({time.monotonic() - t0:.0f} s)", flush=True)
    out.seconds = time.monotonic() - t0
    return out
