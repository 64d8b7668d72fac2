"""The benchmark data: a national-scale synthetic world, calls, SOB transactions
and 1177 e-services cases and logins, generated in chunks (a worker process
generates while this one produces) and pre-loaded into Kafka with the project's
own producer (lz4, keyed by the contract)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from core.settings import Settings
from schemas.topics import (
    ETJ_ACCOUNTS,
    ETJ_CASES,
    ETJ_LOGINS,
    ETJ_UNITS,
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
from synth.etj import make_accounts, make_cases, make_etj_world, make_logins
from synth.ntjp import make_calls
from synth.ntjp_world import World, make_world
from synth.sob import make_sob_world, make_transactions

SEED = 7
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CHUNK = 200_000
# National scale: ~60 care providers (regions and private), ~2,000 units.
CARE_PROVIDERS = 60
UNITS = 2000
# The full data set: 50 M calls with 2 M SOB transactions.
SOB_PER_CALL = 2 / 50
TX_PER_CASE = 2.7  # what synth.sob.make_transactions yields per case, on average
# 1177 e-services beside them: 2 M cases (about 9.4 M case events) and 10 M
# logins per 50 M calls, from 400 k accounts. Nationally there are more of
# both than calls; these keep the loading within minutes while the e-services
# tables hold millions of rows at --scale 50.
ETJ_CASES_PER_CALL = 2 / 50
ETJ_LOGINS_PER_CALL = 10 / 50
ETJ_EVENTS_PER_CASE = 4.7  # what synth.etj.make_cases yields per case, on average
ETJ_LOGINS_PER_ACCOUNT = 25  # synth.etj.make_logins' own default ratio


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


@lru_cache(maxsize=1)
def etj_world() -> Any:
    return make_etj_world(SEED)


@lru_cache(maxsize=2)
def etj_accounts(n: int) -> list[dict[str, Any]]:
    """The year's accounts: the same in every chunk (cached in the worker)."""
    return make_accounts(etj_world(), START, END, n, SEED)


def _etj_cases_chunk(index: int, cases: int, start: dt.datetime, end: dt.datetime) -> Chunk:
    events = make_cases(etj_world(), start, end, cases, seed=SEED * 104_729 + index)
    return Chunk([ETJ_CASES.key_of(e) for e in events], [orjson.dumps(e) for e in events],
                 len(events))  # fmt: skip


def _etj_logins_chunk(index: int, n: int, start: dt.datetime, end: dt.datetime,
                      total: int) -> Chunk:  # fmt: skip
    accounts = etj_accounts(accounts_for(total))
    logins = make_logins(etj_world(), start, end, n, SEED * 15_485_863 + index, accounts=accounts)
    return Chunk([ETJ_LOGINS.key_of(e) for e in logins], [orjson.dumps(e) for e in logins],
                 len(logins))  # fmt: skip


def accounts_for(logins: int) -> int:
    return max(20, logins // ETJ_LOGINS_PER_ACCOUNT)


_MAKERS = {"calls": _calls_chunk, "sob": _sob_chunk, "etj-cases": _etj_cases_chunk}
SPECS: dict[str, TopicSpec] = {
    "calls": NTJP_CALLS,
    "sob": SOB_TRANSACTIONS,
    "etj-cases": ETJ_CASES,
    "etj-logins": ETJ_LOGINS,
}
# Events per generated unit (a SOB or e-services case), to plan chunks by events.
_PER_UNIT = {"calls": 1.0, "sob": TX_PER_CASE, "etj-cases": ETJ_EVENTS_PER_CASE, "etj-logins": 1.0}


def _chunk(
    kind: str, index: int, size: int, start: dt.datetime, end: dt.datetime, total: int
) -> Chunk:
    """A chunk of `size` (calls, cases or logins); `total` is the run's whole
    count (the logins of every chunk come from the same accounts)."""
    if kind == "etj-logins":
        return _etj_logins_chunk(index, size, start, end, total)
    return _MAKERS[kind](index, size, start, end)


def _chunks(kind: str, n: int, pool: ProcessPoolExecutor) -> Iterator[Chunk]:
    per = _PER_UNIT[kind]
    units = max(1, round(n / per))
    plan = windows(units, max(1, round(CHUNK / per)), START, END)
    submit = [(kind, i, size, a, b, n) for i, (size, a, b) in enumerate(plan)]
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
    etj_cases: int = 0  # case events
    etj_logins: int = 0
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


async def publish_etj_reference(settings: Settings, logins: int) -> dict[str, int]:
    """The e-services units, their staff and the accounts the logins come
    from; returns the records produced per topic."""
    await ensure_topics(settings)
    w = etj_world()
    accounts = etj_accounts(accounts_for(logins))
    await produce(settings, ETJ_UNITS, list(w.units))
    await produce(settings, HSA_PERSONS, list(w.persons))
    await produce(settings, ETJ_ACCOUNTS, accounts)
    return {ETJ_UNITS.name: len(w.units), ETJ_ACCOUNTS.name: len(accounts)}


async def preload(settings: Settings, kind: str, n: int, progress: bool = True) -> Loaded:
    """Generate and produce `n` calls ("calls"), about `n` SOB transactions
    ("sob") or e-services case events ("etj-cases"), or `n` logins ("etj-logins")."""
    import time

    await ensure_topics(settings)
    spec = SPECS[kind]
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
            elif kind == "sob":
                out.sob += len(chunk.values)
            elif kind == "etj-cases":
                out.etj_cases += len(chunk.values)
            else:
                out.etj_logins += len(chunk.values)
            if progress:
                done = out.calls or out.sob or out.etj_cases or out.etj_logins
                print(f"  {kind}: {done:,} produced ({time.monotonic() - t0:.0f} s)", flush=True)
    out.seconds = time.monotonic() - t0
    return out
