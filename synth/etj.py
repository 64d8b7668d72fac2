"""Synthetic 1177 e-services data (seed 004, service `e-tjanster`).

A world of care units connected to the e-services (`etj.units.v1`), the staff
who handle their cases (`hsa.persons.v1`), and four streams shaped to hit
every rule of the nine `e-tjanster` reports:

- cases (`etj.cases.v1`) that are reassigned (several `assigned` events: the
  first gives `assigned_at`, the latest the assignee), carry repeated events of
  a kind (the first counts), are answered late, closed late, closed without an
  answer, never answered, answered or closed exactly 240 hours after receipt,
  and received exactly 240 hours before a Stockholm month end, also when a DST
  change makes that window 239 or 241 wall-clock hours;
- units whose activation date was lost in the 2009 database move (a date in
  May 2009, before 2009-06-01), units re-published with a new name, care type,
  case-type configuration or deactivation (the latest record wins), and case
  events naming units the topic never published (county `00`);
- accounts (`etj.accounts.v1`) created before the data window, deleted later
  (the deletion re-publishes the record with `deleted_at`), some exactly at a
  Stockholm midnight;
- logins (`etj.logins.v1`) with a daily rhythm, residents who move county
  between logins, logins without a county, and accounts that never log in.

Everything is deterministic in the seed. Account ids are opaque UUIDs: no
generated record carries a personal identity number (only the invalid input
of `malformed_etj` does, and it is from Skatteverket's test series).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from typing import Any

from schemas.etj import STANDARD_CASE_TYPES
from synth.etj_invalid import malformed_etj
from synth.etj_world import (
    LOST_DATES_BEFORE,
    METHODS,
    OVERDUE_AFTER,
    RESIDENCE,
    TOPICS,
    EtjWorld,
    current_units,
    make_etj_world,
)
from synth.timing import (
    STHLM,
    Picker,
    check_window,
    dst_changes,
    local_midnight,
    ms,
    rfc3339,
    special_instants,
    uuid4,
)

# The module's surface; the world and the invalid input live beside it.
__all__ = [
    "LOST_DATES_BEFORE",
    "METHODS",
    "OVERDUE_AFTER",
    "STANDARD_CASE_TYPES",
    "STHLM",
    "TOPICS",
    "EtjWorld",
    "current_units",
    "make_accounts",
    "make_cases",
    "make_etj_world",
    "make_logins",
    "malformed_etj",
    "shuffled_with_duplicates",
]

# Relative volume by Stockholm hour: cases and logins peak in the morning and
# again after work; nights are quiet but never empty.
_HOUR_WEIGHT = (
    0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.30, 0.75, 1.00, 0.95, 0.85, 0.75,
    0.70, 0.75, 0.70, 0.60, 0.55, 0.50, 0.55, 0.70, 0.75, 0.55, 0.30, 0.12,
)  # fmt: skip
_WEEKDAY_WEIGHT = (0.0, 1.00, 0.92, 0.90, 0.88, 0.80, 0.45, 0.55)
_MAX_WEIGHT = max(_HOUR_WEIGHT) * max(_WEEKDAY_WEIGHT)


# --- time helpers ----------------------------------------------------------------


def _weight(t: dt.datetime) -> float:
    local = t.astimezone(STHLM)
    return _HOUR_WEIGHT[local.hour] * _WEEKDAY_WEIGHT[local.isoweekday()]


def _rhythmic(rng: random.Random, lo: dt.datetime, hi: dt.datetime) -> dt.datetime:
    """An instant in [lo, hi) following the daily and weekly rhythm."""
    span = (hi - lo).total_seconds()
    t = lo
    for _ in range(60):
        t = lo + dt.timedelta(seconds=rng.random() * span)
        if rng.random() * _MAX_WEIGHT <= _weight(t):
            break
    return ms(t)


def _hours(rng: random.Random, median: float, sigma: float) -> dt.timedelta:
    return dt.timedelta(hours=rng.lognormvariate(math.log(median), sigma))


def _month_starts(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Stockholm midnights on the 1st of a month: the end of a month-end period."""
    out: list[dt.datetime] = []
    d = start.astimezone(STHLM).date().replace(day=1)
    while True:
        d = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
        t = local_midnight(d)
        if t >= end:
            return out
        if t - OVERDUE_AFTER > start:
            out.append(t)


# --- cases ------------------------------------------------------------------------

Life = list[tuple[str, dt.datetime, str | None]]


def _normal_life(rng: random.Random, r: dt.datetime, staff: list[str]) -> Life:
    life: Life = [("received", r, None)]
    t = r
    if rng.random() < 0.95:
        t += _hours(rng, 4, 1.2)
        who = rng.choice(staff) if staff else None
        life.append(("assigned", t, who))
        for _ in range(rng.choices([0, 1, 2], [85, 12, 3])[0]):
            # reassigned to a colleague: the first assignment stays assigned_at
            t += _hours(rng, 10, 1.0)
            others = [s for s in staff if s != who] or staff
            who = rng.choice(others) if others else None
            life.append(("assigned", t, who))
        if rng.random() < 0.9:
            t += _hours(rng, 8, 1.2)
            life.append(("started", t, None))
        p = rng.random()
        if p < 0.9:
            # median 30 h; the tail runs past 240 h (answered late)
            t += _hours(rng, 30, 1.1)
            life.append(("answered", t, None))
            if rng.random() < 0.96:
                if rng.random() < 0.7:
                    t += dt.timedelta(minutes=rng.uniform(1, 120))
                else:
                    t += _hours(rng, 72, 1.0)
                life.append(("closed", t, None))
        elif p < 0.95:
            # withdrawn or settled by phone: closed without an answer
            t += _hours(rng, 20, 1.2)
            life.append(("closed", t, None))
    elif rng.random() < 0.5:
        # sent to the wrong unit and closed unassigned
        t += _hours(rng, 6, 1.0)
        life.append(("closed", t, None))
    return life


def _boundary_life(rng: random.Random, r: dt.datetime, staff: list[str]) -> Life:
    """Answers and closings at, just before and just after 240 h from receipt."""
    who = rng.choice(staff) if staff else None
    h = dt.timedelta(hours=1)
    s = dt.timedelta(seconds=1)
    head: Life = [("received", r, None), ("assigned", r + 2 * h, who), ("started", r + 3 * h, None)]
    variant = rng.randrange(4)
    if variant == 0:  # answered on the dot (in time), closed later (late)
        tail = [("answered", r + OVERDUE_AFTER), ("closed", r + OVERDUE_AFTER + 30 * 60 * s)]
    elif variant == 1:  # answered in time, closed on the dot (in time)
        tail = [("answered", r + 239 * h), ("closed", r + OVERDUE_AFTER)]
    elif variant == 2:  # answered a second late
        tail = [("answered", r + OVERDUE_AFTER + s), ("closed", r + 241 * h)]
    else:  # answered early, closed a second late
        tail = [("answered", r + 100 * h), ("closed", r + OVERDUE_AFTER + s)]
    return head + [(kind, t, None) for kind, t in tail]


def _repeat(rng: random.Random, life: Life) -> None:
    """Add a second event of a kind the case already has: stored, never counted."""
    kind, t, who = rng.choice(life)
    if kind == "received":
        again = t + dt.timedelta(seconds=rng.randint(5, 600))  # the resident sent it twice
    elif kind == "closed":
        again = t + _hours(rng, 48, 1.0)  # reopened and closed again
    else:
        again = t + _hours(rng, 6, 1.0)
    life.append((kind, again, who))


def make_cases(
    world: EtjWorld, start: dt.datetime, end: dt.datetime, n_cases: int, seed: int
) -> list[dict[str, Any]]:
    """`etj.cases.v1` events of `n_cases` cases received in [start, end), in time order.

    Events falling at or after `end` are cut, so cases near the end stay open.
    """
    check_window(start, end)
    rng = random.Random(f"etj-cases-{seed}")
    units = current_units(world)
    activated = {u: dt.date.fromisoformat(r["activated_on"]) for u, r in units.items()}
    types_of: dict[str, list[tuple[str, str]]] = {
        u: [(e["id"], e["kind"]) for e in r["case_types"] if e["active"]] for u, r in units.items()
    }
    for u in world.missing_unit_ids:
        types_of[u] = [(s, "standard") for s in STANDARD_CASE_TYPES[:6]]
        activated[u] = dt.date(2009, 1, 1)
    receivers = [u for u, types in types_of.items() if types]
    specials = special_instants(start, end)
    dst = dst_changes(start, end)
    month_starts = _month_starts(start, end)
    # the months whose period end sits right after a DST change
    dst_month_starts = [t for t in month_starts if t.astimezone(STHLM).month in (4, 11)]

    events: list[dict[str, Any]] = []
    for _ in range(n_cases):
        shape = rng.random()
        if shape < 0.02 and month_starts:
            # Open at a month end, received exactly 240 h (± 1 s) before it.
            pool = dst_month_starts if dst_month_starts and rng.random() < 0.5 else month_starts
            r0 = rng.choice(pool) - OVERDUE_AFTER + dt.timedelta(seconds=rng.choice((0, 0, -1, 1)))
        elif shape < 0.05 and dst and rng.random() < 0.5:
            # a 240-hour window that contains a DST change
            r0 = ms(rng.choice(dst) - dt.timedelta(hours=rng.uniform(1, 239)))
        else:
            r0 = _rhythmic(rng, start, end)
            if rng.random() < 0.06:
                k = bisect.bisect_left(specials, r0)
                if k < len(specials):
                    r0 = specials[k]
        if not start <= r0 < end:
            r0 = _rhythmic(rng, start, end)
        day = r0.astimezone(STHLM).date()
        eligible = [
            u
            for u in receivers
            if activated[u] <= day
            and (u not in world.inactive_from or day < world.inactive_from[u])
        ]
        if not eligible:
            continue
        unit = rng.choices(eligible, [world.unit_weights.get(u, 1.0) for u in eligible])[0]
        types = types_of[unit]
        case_type, kind = rng.choices(types, [3 if k == "standard" else 1 for _, k in types])[0]
        staff = world.staff_of.get(unit, [])

        if shape < 0.02:
            who = rng.choice(staff) if staff else None
            life: Life = [("received", r0, None), ("assigned", r0 + dt.timedelta(hours=1), who)]
        elif shape < 0.05:
            life = _boundary_life(rng, r0, staff)
        else:
            life = _normal_life(rng, r0, staff)
        if rng.random() < 0.06:
            _repeat(rng, life)

        case_id = "etj-" + uuid4(rng)
        seen: set[dt.datetime] = set()
        for ev_kind, t, who in sorted(life, key=lambda x: x[1]):
            t = ms(t)
            # never two events of a case at one instant: "first" is never a tie
            while t in seen:
                t += dt.timedelta(seconds=1)
            seen.add(t)
            if t >= end:
                continue
            ev: dict[str, Any] = {
                "event_id": uuid4(rng),
                "occurred_at": rfc3339(t, rng),
                "case_id": case_id,
                "unit_id": unit,
                "case_type": case_type,
                "case_type_kind": kind,
                "event": ev_kind,
            }
            if ev_kind == "assigned" and who is not None:
                ev["assignee_id"] = who
            events.append(ev)
    events.sort(key=lambda e: (dt.datetime.fromisoformat(e["occurred_at"]), e["event_id"]))
    return events


# --- accounts and logins ---------------------------------------------------------


def make_accounts(
    world: EtjWorld, start: dt.datetime, end: dt.datetime, n: int, seed: int
) -> list[dict[str, Any]]:
    """`etj.accounts.v1` records of `n` accounts, in publishing order.

    A deletion re-publishes the account with `deleted_at`, so the latest record
    per account is its current state. About a third existed before `start`.
    """
    check_window(start, end)
    rng = random.Random(f"etj-accounts-{seed}")
    early = min(dt.datetime(2010, 1, 1, tzinfo=dt.UTC), start - dt.timedelta(days=1))
    published: list[tuple[dt.datetime, int, dict[str, Any]]] = []
    for i in range(n):
        actor = "staff" if rng.random() < 0.1 else "resident"
        if rng.random() < 0.35:
            created = early + (start - early) * rng.random()
        else:
            created = start + (end - start) * rng.random()
        if rng.random() < 0.03:
            created = local_midnight(created.astimezone(STHLM).date())
        created = ms(created)
        rec = {"account_id": uuid4(rng), "actor": actor, "created_at": rfc3339(created, rng)}
        published.append((created, i, rec))
        if rng.random() < 0.1:
            if rng.random() < 0.25:
                # deleted on a Stockholm midnight: that instant belongs to the new day
                day = created.astimezone(STHLM).date() + dt.timedelta(days=rng.randint(1, 500))
                deleted = local_midnight(day)
            else:
                deleted = ms(created + dt.timedelta(days=rng.uniform(0.2, 900)))
            if deleted < end:
                published.append((deleted, i, {**rec, "deleted_at": rfc3339(deleted, rng)}))
    published.sort(key=lambda p: (p[0], p[1]))
    return [rec for _, _, rec in published]


def _method(rng: random.Random, actor: str, year: int) -> str:
    if actor == "staff":
        return rng.choices(METHODS, [4, 0, 85, 10, 1])[0]
    if year < 2016:
        return rng.choices(METHODS, [45, 0, 0, 50, 5])[0]
    freja = 10 if year >= 2019 else 0
    return rng.choices(METHODS, [85, freja, 0, 3, 2])[0]


def make_logins(
    world: EtjWorld,
    start: dt.datetime,
    end: dt.datetime,
    n: int,
    seed: int,
    *,
    accounts: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """`n` `etj.logins.v1` events in [start, end), in time order.

    Logins come from `accounts` (by default `make_accounts(world, start, end,
    max(20, n // 25), seed)`), only while an account exists; some accounts never
    log in, some residents move county between logins.
    """
    check_window(start, end)
    rng = random.Random(f"etj-logins-{seed}")
    if accounts is None:
        accounts = make_accounts(world, start, end, max(20, n // 25), seed)
    latest = {a["account_id"]: a for a in accounts}
    counties = list(RESIDENCE)
    county_weights = list(RESIDENCE.values())

    ids: list[str] = []
    weights: list[float] = []
    window: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    home: dict[str, tuple[str | None, str | None, dt.datetime | None]] = {}
    for account_id, a in latest.items():
        lo = max(dt.datetime.fromisoformat(a["created_at"]), start)
        deleted = a.get("deleted_at")
        hi = min(dt.datetime.fromisoformat(deleted), end) if deleted else end
        county: str | None = rng.choices(counties, county_weights)[0]
        moved: tuple[str | None, dt.datetime | None] = (None, None)
        if a["actor"] == "resident" and rng.random() < 0.06 and lo < hi:
            moved = (rng.choices(counties, county_weights)[0], lo + (hi - lo) * rng.random())
        if a["actor"] == "staff" and rng.random() < 0.5:
            county = None  # staff logins often carry no residence
        home[account_id] = (county, moved[0], moved[1])
        if lo >= hi or rng.random() < 0.15:
            continue  # never logs in (within the window)
        ids.append(account_id)
        weights.append(min(rng.paretovariate(1.5), 40) * (hi - lo).total_seconds())
        window[account_id] = (lo, hi)
    if not ids:
        return []
    pick = Picker(ids, weights)
    specials = special_instants(start, end)

    busy: set[tuple[str, dt.datetime]] = set()
    out: list[tuple[dt.datetime, dict[str, Any]]] = []
    attempts = 0
    while len(out) < n and attempts < 3 * n:
        attempts += 1
        account_id = pick(rng)
        lo, hi = window[account_id]
        t = _rhythmic(rng, lo, hi)
        if rng.random() < 0.01:
            k = bisect.bisect_left(specials, t)
            if k < len(specials) and specials[k] < hi:
                t = specials[k]
        while (account_id, t) in busy:
            t += dt.timedelta(seconds=1)
        if t >= hi:
            continue
        busy.add((account_id, t))
        actor = latest[account_id]["actor"]
        ev: dict[str, Any] = {
            "event_id": uuid4(rng),
            "occurred_at": rfc3339(t, rng),
            "account_id": account_id,
            "actor": actor,
            "method": _method(rng, actor, t.astimezone(STHLM).year),
        }
        residence, new_county, moved_at = home[account_id]
        if new_county is not None and moved_at is not None and t >= moved_at:
            residence = new_county
        if residence is not None and rng.random() > 0.03:
            ev["county_code"] = residence
        out.append((t, ev))
    out.sort(key=lambda p: (p[0], p[1]["event_id"]))
    return [ev for _, ev in out]


def shuffled_with_duplicates(
    events: list[dict[str, Any]], rate: float, seed: int
) -> list[dict[str, Any]]:
    """Delivery order as Kafka consumers see it after retries and re-publishing.

    For event topics only: on the compacted topics (units, accounts) the order
    is the meaning, so they are never shuffled.
    """
    rng = random.Random(f"etj-dup-{seed}")
    out = [dict(e) for e in events]
    out += [dict(e) for e in events if rng.random() < rate]
    rng.shuffle(out)
    return out
