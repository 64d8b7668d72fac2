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
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from schemas.etj import LOGIN_METHODS, STANDARD_CASE_TYPES
from synth.personnummer import test_personnummer
from synth.stod import rfc3339, special_instants

STHLM = ZoneInfo("Europe/Stockholm")

# The vocabulary is the contract's (schemas/etj.py); the tests' oracle keeps
# its own copy on purpose. In this order: the login weights below follow it.
METHODS = LOGIN_METHODS
TOPICS = ("etj.cases.v1", "etj.logins.v1", "etj.accounts.v1", "etj.units.v1")
OVERDUE_AFTER = dt.timedelta(hours=240)
# Units connected before the 2009 database move got a surrogate date in May
# 2009; REPORTS.md puts the cut at 2009-06-01.
LOST_DATES_BEFORE = dt.date(2009, 6, 1)

# (organisation number, name, county, case weight, care types of its units).
# Gotland is small on purpose: per-county resident counts of 1–9 then occur.
_PROVIDERS: list[tuple[str, str, str, int, tuple[str, ...]]] = [
    ("2321000016", "Region Stockholm", "01", 30,
     ("primarvard", "specialistvard", "tandvard", "psykiatri", "ovrig")),
    ("2321000024", "Region Uppsala", "03", 7, ("primarvard", "specialistvard", "psykiatri")),
    ("2321000032", "Region Skåne", "12", 16,
     ("primarvard", "specialistvard", "tandvard", "psykiatri")),
    ("2321000131", "Västra Götalandsregionen", "14", 18,
     ("primarvard", "specialistvard", "tandvard", "ovrig")),
    ("2321000164", "Region Örebro län", "18", 6, ("primarvard", "specialistvard")),
    ("2321000230", "Region Norrbotten", "25", 4, ("primarvard", "tandvard")),
    ("2321000099", "Region Gotland", "09", 1, ("primarvard",)),
    # a private provider whose units sit in several counties
    ("5565594230", "Digitalvården Norden AB", "01", 6, ("primarvard", "ovrig")),
    ("2120003140", "Uppsala kommun", "03", 2, ("kommunal",)),
    ("2120001355", "Göteborgs Stad", "14", 2, ("kommunal",)),
]  # fmt: skip
_PRIVATE = "5565594230"

_PLACES: dict[str, tuple[str, ...]] = {
    "01": ("Södermalm", "Kungsholmen", "Solna", "Täby", "Huddinge", "Farsta"),
    "03": ("Gottsunda", "Enköping", "Tierp", "Luthagen"),
    "12": ("Lund", "Malmö Centrum", "Helsingborg", "Ystad"),
    "14": ("Majorna", "Borås", "Trollhättan", "Skövde", "Angered"),
    "18": ("Örebro Norr", "Karlskoga", "Lindesberg"),
    "25": ("Luleå", "Kiruna", "Piteå"),
    "09": ("Visby", "Hemse"),
}
_NAMES: dict[str, tuple[str, ...]] = {
    "primarvard": ("Vårdcentral {}", "Hälsocentral {}", "Barnavårdscentralen {}"),
    "specialistvard": ("Hudmottagningen {}", "Ortopedmottagningen {}", "Kvinnokliniken {}"),
    "tandvard": ("Folktandvården {}",),
    "psykiatri": ("Psykiatrimottagning {}", "BUP {}"),
    "kommunal": ("Elevhälsan {}", "Hemsjukvården {}"),
    "ovrig": ("Ungdomsmottagningen {}", "Vaccinationsmottagningen {}"),
}
_OWN_TYPES = (
    "fotvard",
    "diabetesuppfoljning",
    "sjukskrivning",
    "vaccination",
    "stodsamtal",
    "blodtryckskontroll",
)
# Integration types are national integrations, so their ids are shared.
_INTEGRATION_TYPES = ("int-webcert-intyg", "int-journalkopia", "int-labb-provsvar", "int-tidbok")

_GIVEN = (
    "Anna", "Maria", "Karin", "Sara", "Lena", "Emma", "Elin", "Ida", "Johanna", "Sofia",
    "Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Nils", "Mikael", "Jonas", "Oskar",
)  # fmt: skip
_FAMILY = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Lindqvist",
    "Berg", "Ström", "Åberg", "Öberg", "Sjöberg", "Wallin",
)  # fmt: skip

# Where residents live, roughly by population (hundred thousands).
_RESIDENCE: dict[str, float] = {
    "01": 24, "03": 4, "04": 3, "05": 4.7, "06": 3.7, "07": 2, "08": 2.5, "09": 0.6,
    "10": 1.6, "12": 14, "13": 3.4, "14": 17.5, "17": 2.8, "18": 3, "19": 2.8, "20": 2.9,
    "21": 2.9, "22": 2.4, "23": 1.3, "24": 2.7, "25": 2.5,
}  # fmt: skip

# Relative volume by Stockholm hour: cases and logins peak in the morning and
# again after work; nights are quiet but never empty.
_HOUR_WEIGHT = (
    0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.30, 0.75, 1.00, 0.95, 0.85, 0.75,
    0.70, 0.75, 0.70, 0.60, 0.55, 0.50, 0.55, 0.70, 0.75, 0.55, 0.30, 0.12,
)  # fmt: skip
_WEEKDAY_WEIGHT = (0.0, 1.00, 0.92, 0.90, 0.88, 0.80, 0.45, 0.55)
_MAX_WEIGHT = max(_HOUR_WEIGHT) * max(_WEEKDAY_WEIGHT)


@dataclass(frozen=True)
class EtjWorld:
    units: list[dict[str, Any]]  # etj.units.v1 records, in publishing order
    persons: list[dict[str, Any]]  # hsa.persons.v1 records of the staff
    staff_of: dict[str, list[str]]  # unit_id -> staff HSA-ids (some not in persons)
    unit_weights: dict[str, float]  # unit_id -> relative case volume
    # Inactive units stop receiving cases on this day.
    inactive_from: dict[str, dt.date]
    # Ids that cases and assignments use although no record names them.
    missing_unit_ids: list[str]
    missing_person_ids: list[str]


def _person(rng: random.Random, hsa_id: str, cp_id: str) -> dict[str, Any]:
    return {
        "hsa_id": hsa_id,
        "given_name": rng.choice(_GIVEN),
        "family_name": rng.choice(_FAMILY),
        "care_provider_id": cp_id,
    }


def _activation(rng: random.Random) -> dt.date:
    r = rng.random()
    if r < 0.2:
        # the surrogate dates of the 2009 move
        return dt.date(2009, 5, 4) + dt.timedelta(days=rng.randint(0, 26))
    if r < 0.25:
        return dt.date(2009, 6, 1) + dt.timedelta(days=rng.randint(0, 29))
    first, last = dt.date(2009, 7, 1), dt.date(2024, 6, 30)
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _case_types(rng: random.Random, unit_id: str) -> list[dict[str, Any]]:
    chosen = rng.sample(STANDARD_CASE_TYPES, rng.randint(3, 10))
    out = [{"id": s, "kind": "standard", "active": rng.random() < 0.85} for s in chosen]
    for slug in rng.sample(_OWN_TYPES, rng.choices([0, 1, 2, 3], [4, 3, 2, 1])[0]):
        # own types are the unit's own creations, so their ids are unit-scoped
        out.append({"id": f"{unit_id}/egen-{slug}", "kind": "own", "active": rng.random() < 0.8})
    for tid in rng.sample(_INTEGRATION_TYPES, rng.choices([0, 1, 2], [5, 3, 1])[0]):
        out.append({"id": tid, "kind": "integration", "active": rng.random() < 0.9})
    if not any(e["active"] for e in out):
        out[0]["active"] = True
    return out


def make_etj_world(seed: int) -> EtjWorld:
    rng = random.Random(f"etj-world-{seed}")
    current: list[dict[str, Any]] = []
    persons: list[dict[str, Any]] = []
    staff_of: dict[str, list[str]] = {}
    weights: dict[str, float] = {}
    inactive_from: dict[str, dt.date] = {}

    for org, _cp_name, county, weight, care_types in _PROVIDERS:
        cp_id = f"SE{org}-ETJ0"
        n_units = rng.randint(2, 3) if weight < 5 else rng.randint(4, 7)
        n_staff = 0
        for k in range(n_units):
            care_type = care_types[k] if k < len(care_types) else rng.choice(care_types)
            unit_county = rng.choice(list(_PLACES)) if org == _PRIVATE else county
            place = rng.choice(_PLACES.get(unit_county, _PLACES["01"]))
            unit_id = f"SE{org}-ETJ{k + 1:03d}"
            rec: dict[str, Any] = {
                "unit_id": unit_id,
                "name": rng.choice(_NAMES[care_type]).format(place),
                "care_provider_id": cp_id,
                "county_code": unit_county,
                "care_type": care_type,
                "activated_on": _activation(rng).isoformat(),
                "active": rng.random() < 0.88,
                "case_types": _case_types(rng, unit_id),
            }
            current.append(rec)
            weights[unit_id] = weight / n_units * rng.uniform(0.4, 1.6)
            staff = []
            for _ in range(rng.randint(2, 5)):
                n_staff += 1
                pid = f"SE{org}-ETP{n_staff:04d}"
                persons.append(_person(rng, pid, cp_id))
                staff.append(pid)
            staff_of[unit_id] = staff
            if not rec["active"]:
                activated = dt.date.fromisoformat(rec["activated_on"])
                inactive_from[unit_id] = activated + dt.timedelta(days=rng.randint(200, 4000))

    # Boundary dates of the lost-date note, on units that exist in every seed.
    current[1]["activated_on"] = "2009-05-31"
    current[2]["activated_on"] = "2009-06-01"
    # A unit connected so recently that it has configured no case type yet.
    current[-1]["case_types"] = []
    current[-1]["activated_on"] = "2024-05-20"

    # Staff whose person record never arrived: the assignee name is unknown.
    ghost = "SE2321000032-ETP9999"
    skane = [u["unit_id"] for u in current if u["unit_id"].startswith("SE2321000032")]
    staff_of[skane[0]].append(ghost)
    # Cases name units the topic never published: county 00, never dropped.
    missing = ["SE2321000032-ETJ999", "SE5569990000-ETJ001"]
    for unit_id in missing:
        weights[unit_id] = 0.4
        staff_of[unit_id] = [
            p["hsa_id"] for p in persons if p["hsa_id"].startswith("SE2321000032")
        ][:3] or [ghost]

    # Earlier versions published before the current record: the latest wins.
    published: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for rec in current:
        change = rng.random()
        if not rec["active"] or change < 0.22:
            old = {**rec, "case_types": [dict(e) for e in rec["case_types"]]}
            if not rec["active"]:
                old["active"] = True  # deactivated later
            elif change < 0.07:
                old["name"] = f"{rec['name']} (före namnbyte)"
            elif change < 0.12:
                old["care_type"] = "ovrig" if rec["care_type"] != "ovrig" else "primarvard"
            elif change < 0.17:
                old["county_code"] = "03" if rec["county_code"] != "03" else "01"
            elif any(e["kind"] == "standard" for e in old["case_types"]):
                for e in old["case_types"]:
                    e["active"] = not e["active"] if e["kind"] == "standard" else e["active"]
            else:
                old["name"] = f"{rec['name']} (före namnbyte)"
            published.append(old)
            updates.append(rec)
        else:
            published.append(rec)
    return EtjWorld(
        units=published + updates,
        persons=persons,
        staff_of=staff_of,
        unit_weights=weights,
        inactive_from=inactive_from,
        missing_unit_ids=missing,
        missing_person_ids=[ghost],
    )


def current_units(world: EtjWorld) -> dict[str, dict[str, Any]]:
    """The latest record per unit_id (compacted-topic semantics: the last one wins)."""
    return {u["unit_id"]: u for u in world.units}


# --- time helpers ----------------------------------------------------------------


def _ms(t: dt.datetime) -> dt.datetime:
    # Instants are written with at most milliseconds; keeping them whole
    # milliseconds makes the text and the generated instant the same.
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def _local_midnight(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=STHLM).astimezone(dt.UTC)


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
    return _ms(t)


def _hours(rng: random.Random, median: float, sigma: float) -> dt.timedelta:
    return dt.timedelta(hours=rng.lognormvariate(math.log(median), sigma))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _dst_changes(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    out = []
    for year in range(start.year, end.year + 1):
        for month in (3, 10):
            d = dt.date(year, month, 31)
            d -= dt.timedelta(days=d.isoweekday() % 7)
            t = dt.datetime(d.year, d.month, d.day, 1, tzinfo=dt.UTC)  # 01:00Z both times
            if start <= t < end:
                out.append(t)
    return out


def _month_starts(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Stockholm midnights on the 1st of a month: the end of a month-end period."""
    out: list[dt.datetime] = []
    d = start.astimezone(STHLM).date().replace(day=1)
    while True:
        d = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
        t = _local_midnight(d)
        if t >= end:
            return out
        if t - OVERDUE_AFTER > start:
            out.append(t)


class _Picker:
    """Weighted choice by bisection over cumulative weights."""

    def __init__(self, items: Sequence[str], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cumulative: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            self.cumulative.append(total)

    def __call__(self, rng: random.Random) -> str:
        i = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.items[min(i, len(self.items) - 1)]


def _check_window(start: dt.datetime, end: dt.datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if not start < end:
        raise ValueError("start must be before end")


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
    _check_window(start, end)
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
    dst = _dst_changes(start, end)
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
            r0 = _ms(rng.choice(dst) - dt.timedelta(hours=rng.uniform(1, 239)))
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

        case_id = "etj-" + _uuid(rng)
        seen: set[dt.datetime] = set()
        for ev_kind, t, who in sorted(life, key=lambda x: x[1]):
            t = _ms(t)
            # never two events of a case at one instant: "first" is never a tie
            while t in seen:
                t += dt.timedelta(seconds=1)
            seen.add(t)
            if t >= end:
                continue
            ev: dict[str, Any] = {
                "event_id": _uuid(rng),
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
    _check_window(start, end)
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
            created = _local_midnight(created.astimezone(STHLM).date())
        created = _ms(created)
        rec = {"account_id": _uuid(rng), "actor": actor, "created_at": rfc3339(created, rng)}
        published.append((created, i, rec))
        if rng.random() < 0.1:
            if rng.random() < 0.25:
                # deleted on a Stockholm midnight: that instant belongs to the new day
                day = created.astimezone(STHLM).date() + dt.timedelta(days=rng.randint(1, 500))
                deleted = _local_midnight(day)
            else:
                deleted = _ms(created + dt.timedelta(days=rng.uniform(0.2, 900)))
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
    _check_window(start, end)
    rng = random.Random(f"etj-logins-{seed}")
    if accounts is None:
        accounts = make_accounts(world, start, end, max(20, n // 25), seed)
    latest = {a["account_id"]: a for a in accounts}
    counties = list(_RESIDENCE)
    county_weights = list(_RESIDENCE.values())

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
    pick = _Picker(ids, weights)
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
            "event_id": _uuid(rng),
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


# --- invalid input ---------------------------------------------------------------

Mutation = Callable[[dict[str, Any], random.Random], None]


def _set(name: str, value: Any) -> Mutation:
    def mutate(e: dict[str, Any], rng: random.Random) -> None:
        e[name] = value

    return mutate


def _drop(name: str) -> Mutation:
    def mutate(e: dict[str, Any], rng: random.Random) -> None:
        del e[name]

    return mutate


def _pnr12(e: dict[str, Any], rng: random.Random) -> None:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 25000))
    e["account_id"] = test_personnummer(rng, born, rng.choice("FM"))


def _pnr10(e: dict[str, Any], rng: random.Random) -> None:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 25000))
    p = test_personnummer(rng, born, rng.choice("FM"))
    e["account_id"] = f"{p[2:8]}-{p[8:]}"


_DROP = object()  # marks a key to remove from a case_types entry


def _case_types_entry(name: str, value: Any) -> Mutation:
    def mutate(e: dict[str, Any], rng: random.Random) -> None:
        entry = dict(e["case_types"][0])
        if value is _DROP:
            del entry[name]
        else:
            entry[name] = value
        e["case_types"] = [entry, *e["case_types"][1:]]

    return mutate


def _instant(rng: random.Random) -> dt.datetime:
    return dt.datetime(2023, 5, 4, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randint(0, 10**5))


def _valid(topic: str, rng: random.Random) -> dict[str, Any]:
    if topic == "etj.cases.v1":
        return {
            "event_id": _uuid(rng),
            "occurred_at": rfc3339(_instant(rng), rng),
            "case_id": "etj-" + _uuid(rng),
            "unit_id": "SE2321000016-ETJ001",
            "case_type": rng.choice(STANDARD_CASE_TYPES),
            "case_type_kind": "standard",
            "event": "assigned",
            "assignee_id": "SE2321000016-ETP0001",
        }
    if topic == "etj.logins.v1":
        return {
            "event_id": _uuid(rng),
            "occurred_at": rfc3339(_instant(rng), rng),
            "account_id": _uuid(rng),
            "actor": "resident",
            "method": "bankid",
            "county_code": "01",
        }
    if topic == "etj.accounts.v1":
        return {
            "account_id": _uuid(rng),
            "actor": "resident",
            "created_at": rfc3339(_instant(rng), rng),
            "deleted_at": rfc3339(_instant(rng) + dt.timedelta(days=400), rng),
        }
    if topic == "etj.units.v1":
        return {
            "unit_id": "SE2321000016-ETJ001",
            "name": "Vårdcentral Södermalm",
            "care_provider_id": "SE2321000016-ETJ0",
            "county_code": "01",
            "care_type": "primarvard",
            "activated_on": "2012-03-05",
            "active": True,
            "case_types": [
                {"id": "boka-tid", "kind": "standard", "active": True},
                {"id": "SE2321000016-ETJ001/egen-fotvard", "kind": "own", "active": False},
            ],
        }
    raise ValueError(f"unknown etj topic {topic!r}")


_COMMON: list[tuple[Mutation, str]] = [
    (_drop("event_id"), "event_id: missing"),
    (_set("event_id", ""), "event_id: empty"),
    (_set("event_id", 42), "event_id: a number, not a string"),
    (_drop("occurred_at"), "occurred_at: missing"),
    (_set("occurred_at", "2023-05-04T10:00:00"), "occurred_at: no offset"),
    (_set("occurred_at", "2023-02-30T10:00:00Z"), "occurred_at: impossible date"),
    (_set("occurred_at", "4 maj 2023 kl 10"), "occurred_at: not RFC 3339"),
    (_set("occurred_at", 1683194400), "occurred_at: a number"),
]
# Labels describe the fault and never carry a number: they reach logs.
_FAULTS: dict[str, list[tuple[Mutation, str]]] = {
    "etj.cases.v1": [
        *_COMMON,
        (_drop("case_id"), "case_id: missing"),
        (_drop("unit_id"), "unit_id: missing"),
        (_set("unit_id", "SE2321000016 ETJ001"), "unit_id: contains a space"),
        (_drop("case_type"), "case_type: missing"),
        (_set("case_type", ""), "case_type: empty"),
        (_set("case_type_kind", "custom"), "case_type_kind: not standard, own or integration"),
        (_drop("case_type_kind"), "case_type_kind: missing"),
        (_set("case_type", "boka_tid"), "case_type: kind standard but not a standard id"),
        (_set("event", "opened"), "event: not one of the five events"),
        (_set("event", "Received"), "event: upper case"),
        (_drop("event"), "event: missing"),
        (_set("assignee_id", 17), "assignee_id: a number, not an HSA-id"),
    ],
    "etj.logins.v1": [
        *_COMMON,
        (_pnr12, "account_id: a personal identity number"),
        (_pnr10, "account_id: a personal identity number (10 digits with hyphen)"),
        (_drop("account_id"), "account_id: missing"),
        (_set("account_id", ""), "account_id: empty"),
        (_set("actor", "patient"), "actor: not resident or staff"),
        (_drop("actor"), "actor: missing"),
        (_set("method", "BankID"), "method: wrong case"),
        (_set("method", "sms"), "method: not a known method"),
        (_drop("method"), "method: missing"),
        (_set("county_code", "26"), "county_code: not a county"),
        (_set("county_code", "00"), "county_code: 00 is the unknown county, not a county"),
        (_set("county_code", 1), "county_code: a number, not a two-digit string"),
    ],
    "etj.accounts.v1": [
        (_pnr12, "account_id: a personal identity number"),
        (_drop("account_id"), "account_id: missing"),
        (_set("account_id", "konto 1"), "account_id: contains a space"),
        (_set("actor", "admin"), "actor: not resident or staff"),
        (_drop("actor"), "actor: missing"),
        (_drop("created_at"), "created_at: missing"),
        (_set("created_at", "2023-05-04T10:00:00"), "created_at: no offset"),
        (_set("created_at", "yesterday"), "created_at: not RFC 3339"),
        (_set("deleted_at", "2023-13-01T00:00:00Z"), "deleted_at: month 13"),
        (_set("deleted_at", 1683194400), "deleted_at: a number"),
    ],
    "etj.units.v1": [
        (_drop("unit_id"), "unit_id: missing"),
        (_set("unit_id", ""), "unit_id: empty"),
        (_drop("name"), "name: missing"),
        (_drop("care_provider_id"), "care_provider_id: missing"),
        (_set("county_code", "00"), "county_code: 00 is not a county"),
        (_set("county_code", "2"), "county_code: one digit"),
        (_set("care_type", "vardcentral"), "care_type: not one of the six"),
        (_drop("care_type"), "care_type: missing"),
        (_set("activated_on", "2009-13-01"), "activated_on: month 13"),
        (_set("activated_on", "1 maj 2009"), "activated_on: not an ISO date"),
        (_drop("activated_on"), "activated_on: missing"),
        (_set("active", "yes"), "active: a string, not a boolean"),
        (_set("active", 1), "active: a number, not a boolean"),
        (_drop("active"), "active: missing"),
        (_set("case_types", "boka-tid"), "case_types: not a list"),
        (_set("case_types", [None]), "case_types: an entry is null"),
        (_case_types_entry("kind", "egen"), "case_types: an entry's kind is unknown"),
        (_case_types_entry("id", _DROP), "case_types: an entry without id"),
        (_case_types_entry("active", "true"), "case_types: an entry's active is a string"),
    ],
}
_NOT_JSON: list[tuple[bytes, str]] = [
    (b'{"event_id": "x", "occurred_at": ', "not JSON: truncated"),
    (b"\xff\xfe{}", "not JSON: invalid UTF-8"),
    (b"[1, 2, 3]", "not a JSON object: array"),
    (b"", "not JSON: empty message"),
    (b"kafka says hi", "not JSON: plain text"),
]


def malformed_etj(topic: str, n: int, seed: int) -> list[tuple[bytes, str]]:
    """`n` messages that break the contract of `topic` (an `etj.*` topic), each with why.

    Every fault kind appears once before any repeats.
    """
    if topic not in _FAULTS:
        raise ValueError(f"unknown etj topic {topic!r}")
    rng = random.Random(f"etj-bad-{topic}-{seed}")
    kinds: list[tuple[Mutation, str] | tuple[bytes, str]] = [*_FAULTS[topic], *_NOT_JSON]
    out: list[tuple[bytes, str]] = []
    for i in range(n):
        fault, label = kinds[i % len(kinds)]
        if isinstance(fault, bytes):
            out.append((fault, label))
            continue
        e = _valid(topic, rng)
        fault(e, rng)
        out.append((orjson.dumps(e), label))
    return out
