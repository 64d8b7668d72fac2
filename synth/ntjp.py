"""Synthetic web-booking (webbtidbokning) data: calls through the national
service platform, over the world of synth/ntjp_world.py (malformed messages:
synth/ntjp_invalid.py).

Calls are written with mixed UTC offsets and placed on Stockholm midnights,
month ends and DST-change days (so bucketing in UTC, or in a fixed offset,
shows). Everything is deterministic in the seed.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from synth.ntjp_world import UNKNOWN_SHARE, World, _month_end
from synth.timing import STHLM, Picker, local_midnight, uuid4

OPERATIONS: tuple[str, ...] = (
    "MakeBooking",
    "CancelBooking",
    "UpdateBooking",
    "GetSubjectOfCareSchedule",
    "GetAvailableDates",
    "GetAvailableTimeslots",
    "GetAllTimeTypes",
)

# Most traffic is residents looking: their own bookings and free times. Only a
# fraction ends in a booking, fewer in a cancellation or a rescheduling.
OPERATION_WEIGHTS: dict[str, float] = {
    "GetSubjectOfCareSchedule": 0.28,
    "GetAvailableTimeslots": 0.19,
    "GetAvailableDates": 0.17,
    "MakeBooking": 0.13,
    "GetAllTimeTypes": 0.10,
    "CancelBooking": 0.08,
    "UpdateBooking": 0.05,
}

# Relative call volume by Stockholm hour: quiet nights, a morning peak when
# clinics open their books, a smaller evening peak after work.
_HOUR_WEIGHT = (
    0.04, 0.03, 0.02, 0.02, 0.03, 0.07, 0.25, 0.70, 1.00, 0.95, 0.85, 0.75,
    0.70, 0.75, 0.70, 0.60, 0.50, 0.45, 0.45, 0.55, 0.55, 0.40, 0.22, 0.09,
)  # fmt: skip
# ISO weekday 1..7 (index 0 unused): Monday busiest, weekends about half.
_WEEKDAY_WEIGHT = (0.0, 1.00, 0.93, 0.90, 0.88, 0.78, 0.42, 0.50)
# Summer holidays and Christmas are quieter.
_MONTH_WEIGHT = (0.0, 1.0, 1.0, 1.0, 0.95, 0.95, 0.85, 0.65, 0.9, 1.0, 1.0, 1.0, 0.85)
_MAX_WEIGHT = max(_HOUR_WEIGHT) * max(_WEEKDAY_WEIGHT) * max(_MONTH_WEIGHT)

ERROR_SHARE = 0.02

# Calling systems: the national 1177 platform carries most traffic.
_CONSUMERS: tuple[tuple[str, float], ...] = (
    ("SE5565594230-B31", 0.70),
    ("SE5565594230-BCK", 0.15),
    ("SE2321000016-F5V1", 0.08),
    ("SE2321000131-K2Q8", 0.07),
)


# --- calls ---------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> dt.date:
    d = _month_end(year, month)
    return d - dt.timedelta(days=d.isoweekday() % 7)


def special_instants(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Instants that land in a different day, week or month when bucketed in UTC,
    in a fixed offset, or with a naive month end."""
    out: set[dt.datetime] = set()
    first = (start - dt.timedelta(days=1)).astimezone(STHLM).date()
    last = (end + dt.timedelta(days=1)).astimezone(STHLM).date()
    ms = dt.timedelta(milliseconds=1)
    d = first
    while d <= last:
        if d.day == 1 or d.isoweekday() == 1:
            midnight = local_midnight(d)
            out.update((midnight, midnight - ms, midnight - dt.timedelta(seconds=60)))
        if d.day == 1:
            prev = d - dt.timedelta(days=1)
            # 23:30Z is the next day in Stockholm all year, 22:30Z only in summer.
            for hh in (22, 23):
                out.add(dt.datetime(prev.year, prev.month, prev.day, hh, 30, tzinfo=dt.UTC))
        d += dt.timedelta(days=1)
    for year in range(first.year, last.year + 1):
        for day in (_last_sunday(year, 3), _last_sunday(year, 10)):
            change = dt.datetime(day.year, day.month, day.day, 1, tzinfo=dt.UTC)
            # Around 01:00Z the clocks change; 00:30Z and 01:30Z on the autumn
            # day are both 02:30 local.
            for minutes in (-60, -30, -1, 0, 30, 60, 90):
                out.add(change + dt.timedelta(minutes=minutes))
            for d2 in (day, day + dt.timedelta(days=1)):
                midnight = local_midnight(d2)
                out.update((midnight, midnight - ms, midnight + dt.timedelta(minutes=30)))
    return sorted(t for t in out if start <= t < end)


_OTHER_OFFSETS = (
    dt.timezone(dt.timedelta(hours=-5)),
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(dt.timedelta(hours=3)),
)


def rfc3339(t: dt.datetime, rng: random.Random) -> str:
    """One instant, written the way different platform teams write it."""
    r = rng.random()
    if r < 0.50:
        tz: dt.tzinfo = dt.UTC
    elif r < 0.92:
        tz = STHLM
    elif r < 0.97:
        tz = dt.timezone(dt.timedelta(0), "+00:00")
    else:
        tz = rng.choice(_OTHER_OFFSETS)
    local = t.astimezone(tz)
    text = local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")
    if tz is dt.UTC:
        text = text[:-6] + "Z"
    return text


def _weight(local: dt.datetime) -> float:
    return (
        _HOUR_WEIGHT[local.hour] * _WEEKDAY_WEIGHT[local.isoweekday()] * _MONTH_WEIGHT[local.month]
    )


def _pickers(world: World) -> dict[str, Picker]:
    """Per operation, the catalogued units that have that contract routed."""
    routed: dict[str, set[str]] = {op: set() for op in OPERATIONS}
    for r in world.routing:
        if r["operation"] in routed:
            routed[r["operation"]].add(r["logical_address"])
    known = [u["hsa_id"] for u in world.units if u["kind"] == "unit"]
    out = {}
    for op in OPERATIONS:
        items = [a for a in known if a in routed[op]] or known
        out[op] = Picker(items, [world.unit_weights.get(a, 1.0) for a in items])
    return out


def make_calls(
    world: World, start: dt.datetime, end: dt.datetime, n: int, seed: int
) -> list[dict[str, Any]]:
    """`n` valid `ntjp.calls.v1` events with instants in [start, end), in time order."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if not start < end:
        raise ValueError("start must be before end")
    rng = random.Random(f"webbtidbokning-calls-{seed}")
    pickers = _pickers(world)
    ops = list(OPERATION_WEIGHTS)
    op_weights = list(OPERATION_WEIGHTS.values())
    consumers = [c for c, _ in _CONSUMERS]
    consumer_weights = [w for _, w in _CONSUMERS]
    unknown = world.unknown_addresses

    specials = special_instants(start, end)
    n_special = min(n // 100, 3 * len(specials))
    instants = [rng.choice(specials) for _ in range(n_special)]
    span = (end - start).total_seconds()
    while len(instants) < n:
        t = start + dt.timedelta(seconds=rng.random() * span)
        t = t.replace(microsecond=t.microsecond // 1000 * 1000)
        # Rejection sampling keeps the rhythms exact for any window, even one
        # second long; a floor keeps quiet hours from stalling it.
        if rng.random() * _MAX_WEIGHT <= max(_weight(t.astimezone(STHLM)), 0.01) and t < end:
            instants.append(t)
    instants.sort()

    ids: set[str] = set()
    calls: list[dict[str, Any]] = []
    for t in instants:
        event_id = uuid4(rng)
        while event_id in ids:
            event_id = uuid4(rng)
        ids.add(event_id)
        op = rng.choices(ops, weights=op_weights)[0]
        if unknown and rng.random() < UNKNOWN_SHARE:
            address = rng.choice(unknown)
        else:
            address = pickers[op](rng)
        call: dict[str, Any] = {
            "event_id": event_id,
            "occurred_at": rfc3339(t, rng),
            "operation": op,
            "logical_address": address,
        }
        if rng.random() < 0.65:
            call["consumer_id"] = rng.choices(consumers, weights=consumer_weights)[0]
        r = rng.random()
        if r < ERROR_SHARE:
            call["status"] = "error"
        elif r < 0.7:
            call["status"] = "ok"
        calls.append(call)
    return calls


def with_duplicates(events: list[dict[str, Any]], rate: float, seed: int) -> list[dict[str, Any]]:
    """`events` plus re-published copies of a `rate` share of them, shuffled:
    what a producer that retries after a timeout delivers."""
    rng = random.Random(f"webbtidbokning-duplicates-{seed}")
    k = min(len(events), round(rate * len(events)))
    copies = [dict(e) for e in rng.sample(events, k)]
    out = [*events, *copies]
    rng.shuffle(out)
    return out
