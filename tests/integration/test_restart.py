"""SIGKILL the worker mid-stream, restart it; totals stay exact (no loss, no
double count), also for events re-published across the restart."""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish

SERVICE = "webbtidbokning"
FOUR = ("GetSubjectOfCareSchedule", "MakeBooking", "CancelBooking", "UpdateBooking")


def total_by_operation(proc: StatflowProcess) -> dict[str, int]:
    got = proc.report(SERVICE, "events-per-weekday", **{"from": "2017-10-01", "to": "2026-12-31"})
    out: dict[str, int] = {}
    for _, op, n, _, _ in got["rows"]:
        out[op] = out.get(op, 0) + n
    return out


def want_by_operation(calls: list[dict[str, Any]]) -> dict[str, int]:
    """What total_by_operation must answer for these calls."""
    out: dict[str, int] = {}
    for c in calls:
        if c["operation"] in FOUR:
            out[c["operation"]] = out.get(c["operation"], 0) + 1
    return out


def test_sigkill_mid_stream_loses_and_duplicates_nothing(
    settings: Any, statflow: StatflowProcess
) -> None:
    settings = settings.with_(batch_max_records=2000)
    statflow.settings = settings
    world = make_world(seed=21, n_units=60)
    calls = make_calls(
        world,
        dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2024, 12, 31, tzinfo=dt.UTC),
        60_000,
        seed=21,
    )
    publish(settings, "hsa.units.v1", world.units)
    rng = random.Random(5)
    chunks = [calls[i : i + 15_000] for i in range(0, len(calls), 15_000)]
    statflow.start()
    for i, chunk in enumerate(chunks):
        publish(settings, "ntjp.calls.v1", chunk)
        # re-publish some earlier events: a producer retry after the crash
        if i:
            publish(settings, "ntjp.calls.v1", rng.sample(chunks[i - 1], 500))
        time.sleep(rng.uniform(0.3, 1.5))
        statflow.kill()
        statflow.start()

    want = want_by_operation(calls)
    statflow.wait_for(
        lambda: total_by_operation(statflow) == want or total_by_operation(statflow),
        timeout=300,
        what="exact totals after restarts",
    )
    time.sleep(2)  # nothing more may arrive: a late double count would show now
    assert total_by_operation(statflow) == want
