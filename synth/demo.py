"""`statflow demo`: publish a realistic world and a year of history, then keep
a trickle of live calls flowing so the numbers move while you watch.

Re-running the demo republishes the same event ids; deduplication drops them,
so the demo can be started any number of times.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
import uuid

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
)
from streams.admin import ensure_topics
from streams.publish import produce
from synth import etj
from synth.ntjp import make_calls
from synth.ntjp_world import World, make_world
from synth.sob import make_sob_world, make_transactions

SEED = 2026


async def seed_demo(settings: Settings, n_calls: int) -> World:
    world = make_world(seed=SEED)
    await ensure_topics(settings)
    await produce(settings, HSA_UNITS, [*world.units, *world.unit_moves])
    await produce(settings, NTJP_ROUTING, list(world.routing))
    await produce(settings, SCB_POPULATION, list(world.population))
    # History up to the start of today, so live traffic never repeats an id.
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    calls = make_calls(world, today - dt.timedelta(days=400), today, n_calls, seed=SEED)
    await produce(settings, NTJP_CALLS, list(calls))
    print(f"demo: published {len(world.units)} catalogue records and {len(calls)} calls")
    sob = make_sob_world(seed=SEED)
    await produce(settings, HSA_UNITS, list(sob.units))
    await produce(settings, HSA_PERSONS, list(sob.practitioners))
    txs = make_transactions(sob, today - dt.timedelta(days=3 * 365), today, n_calls // 20, SEED)
    await produce(settings, SOB_TRANSACTIONS, list(txs))
    print(f"demo: published {len(txs)} support-and-treatment transactions")
    await seed_etj(settings, today, n_calls // 20)
    start_live_traffic(settings, world)
    return world


async def seed_etj(settings: Settings, today: dt.datetime, n_cases: int) -> None:
    """Two years of 1177 e-services: units of every care type across counties,
    cases (some overdue, some never answered), accounts and logins."""
    world = etj.make_etj_world(seed=SEED)
    start = today - dt.timedelta(days=2 * 365)
    await produce(settings, ETJ_UNITS, list(world.units))
    await produce(settings, HSA_PERSONS, list(world.persons))
    accounts = etj.make_accounts(world, start, today, max(n_cases // 4, 100), SEED)
    await produce(settings, ETJ_ACCOUNTS, accounts)
    cases = etj.make_cases(world, start, today, n_cases, SEED)
    await produce(settings, ETJ_CASES, cases)
    logins = etj.make_logins(world, start, today, n_cases * 2, SEED, accounts=accounts)
    await produce(settings, ETJ_LOGINS, logins)
    print(f"demo: published {len(cases)} 1177 e-services case events and {len(logins)} logins")


def start_live_traffic(settings: Settings, world: World, per_second: int = 20) -> None:
    def loop() -> None:
        tick = 0
        while True:
            now = dt.datetime.now(dt.UTC)
            calls = make_calls(world, now - dt.timedelta(seconds=1), now, per_second, seed=tick)
            for c in calls:
                c["event_id"] = str(uuid.uuid4())
            try:
                asyncio.run(produce(settings, NTJP_CALLS, list(calls)))
            except Exception as exc:  # noqa: BLE001 - a demo trickle must not kill the demo
                print(f"demo: live traffic paused: {exc}")
                time.sleep(5)
            tick += 1
            time.sleep(1)

    threading.Thread(target=loop, name="demo-traffic", daemon=True).start()
