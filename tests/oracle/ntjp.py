"""Reference computation of every `webbtidbokning` report, from raw records.

Deliberately naive and independent of `reports/`: plain Python over the calls
and reference records, written from REPORTS.md, so the ClickHouse
implementation can be compared with it cell by cell. It shares nothing with
the production code except the county list.

Readings of REPORTS.md where the text leaves room (the SQL must match these):

Input
- Calls are deduplicated by `event_id`; the first occurrence in the given
  order wins. Every call counts, `status` ok and error alike.
- `occurred_at` is an instant; its day, month, year and ISO weekday are those
  of Europe/Stockholm, whatever offset it was written with. A call is in the
  period when its Stockholm date is in `date_from..date_to` (inclusive). A
  `date_from` before 2017-10-01 is clipped to it; if that leaves no day, every
  count is 0 (month axis empty, every weekday's `days` 0).

Current HSA catalogue (`units` = every published record, in publication order)
- Per `hsa_id` the record with the latest `updated_at` (compared as instants)
  wins; on a tie the later one in the list. A record without `updated_at` (a
  tombstone) wins over everything before it. A winning record with
  `"deleted": True` means the id is not in the catalogue.
- A call's county, care provider and unit come from the current record of its
  `logical_address`. An address not in the catalogue counts under county "00"
  "Okänt län" with `care_provider_id` None, `care_provider_name` None,
  `unit_id` = the address and `unit_name` None. (None, not "": the care
  provider is unknown, and JSON null says so; "" would be a fake id.)
- `care_provider_name` = name of the current record of the unit's
  `care_provider_id`; None when that id is not in the catalogue.

Routing and population
- Routing: per (`logical_address`, `operation`) the last record in the list
  wins (compacted topic, no timestamp); `"deleted": True` removes it.
- A contract is active on day d when `active_from <= d` and (`active_to` is
  None or `active_to >= d`): `active_to` is the last active day (inclusive).
- `units_connected` counts distinct routed logical addresses (any catalogue
  kind) with all four of GetAvailableDates, GetAvailableTimeslots,
  MakeBooking, GetAllTimeTypes active on `date_to`, by the address's current
  county ("00" when not catalogued). It does not depend on `date_from` nor on
  the `activity` filter; the organisation filters apply.
- Population: per (`county_code`, `year`) the last record in the list.
  `population` = the county's for `date_to.year`, None when unknown.
  `bookings_per_1000` = 1000 × Σ over each year of the clipped period of
  (MakeBooking calls of that year in the period ÷ that year's population);
  None when any of those years has no (or a zero) population, since a partial
  sum would look like a rate and understate it. County "00": both None.

Axes, filters and rows
- Filters: `county` (current county code, "00" allowed), `care_provider`
  (current care_provider_id; uncatalogued addresses never match), `unit`
  (logical address), `activity` (operation). Several values of one filter
  are alternatives; different filters must all match. Any other filter name
  raises ValueError.
- An `activity` filter also narrows the activity axis to the chosen
  activities the report names (events-per-month, share-per-service,
  events-per-weekday). my-bookings-per-month keeps its month axis (events 0
  when GetSubjectOfCareSchedule is filtered away).
- bookings-per-county: the 21 counties in code order (or, with a `county`
  filter, the chosen ones), then "00" when it has a non-zero measure
  (bookings, units_used or units_connected) and is not filtered away.
- share-per-service: share = events ÷ the sum over the rows shown (= over
  the three, as filtered-away activities count 0); None when that sum is 0.
- events-by-hierarchy: rows only for non-zero sums; `level` keeps the columns
  down to it (county: county_code, county_name; care_provider: + ids and
  names of the care provider; unit: + unit; activity: + activity) and sums
  the rest away. Orders: months, weekdays, counties ascending; activities in
  the order the report names them; hierarchy rows by key with None as "".
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from schemas.counties import COUNTIES, UNKNOWN_COUNTY, county_name
from tests.oracle.parsing import STHLM, dedupe, parse_instant

DATA_START = dt.date(2017, 10, 1)

BOOK = "MakeBooking"
CANCEL = "CancelBooking"
UPDATE = "UpdateBooking"
MINE = "GetSubjectOfCareSchedule"
THREE = (BOOK, CANCEL, UPDATE)
FOUR = (MINE, BOOK, CANCEL, UPDATE)
CONNECTED_NEEDS = ("GetAvailableDates", "GetAvailableTimeslots", "MakeBooking", "GetAllTimeTypes")
LEVELS = ("county", "care_provider", "unit", "activity")
FILTERS = ("county", "care_provider", "unit", "activity")
HIERARCHY_COLUMNS = (
    "county_code",
    "county_name",
    "care_provider_id",
    "care_provider_name",
    "unit_id",
    "unit_name",
    "activity",
)
_KEEP = {"county": 2, "care_provider": 4, "unit": 6, "activity": 7}


@functools.lru_cache(maxsize=1 << 20)
def stockholm_day(text: str) -> dt.date:
    # Cached: the same calls are placed once per report case, and there are many.
    return parse_instant(text).astimezone(STHLM).date()


def current_catalogue(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for r in records:
        prev = latest.get(r["hsa_id"])
        if (
            prev is None
            or r.get("updated_at") is None
            or prev.get("updated_at") is None
            or parse_instant(r["updated_at"]) >= parse_instant(prev["updated_at"])
        ):
            latest[r["hsa_id"]] = r
    return {k: r for k, r in latest.items() if not r.get("deleted")}


def current_routing(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        last[(r["logical_address"], r["operation"])] = r
    return [r for r in last.values() if not r.get("deleted")]


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def active_on(r: dict[str, Any], day: dt.date) -> bool:
    start, end = _as_date(r["active_from"]), _as_date(r.get("active_to"))
    assert start is not None
    return start <= day and (end is None or end >= day)


def months(date_from: dt.date, date_to: dt.date) -> list[str]:
    out = []
    d = date_from.replace(day=1)
    while d <= date_to:
        out.append(f"{d.year:04d}-{d.month:02d}")
        d = (d + dt.timedelta(days=32)).replace(day=1)
    return out


def weekday_days(date_from: dt.date, date_to: dt.date) -> dict[int, int]:
    # Counted day by day on purpose: the oracle must not share a formula's slip.
    days = dict.fromkeys(range(1, 8), 0)
    d = date_from
    while d <= date_to:
        days[d.isoweekday()] += 1
        d += dt.timedelta(days=1)
    return days


@dataclass(frozen=True)
class Call:
    """A deduplicated call in the period, placed in the current catalogue."""

    day: dt.date
    operation: str
    address: str
    county: str
    care_provider_id: str | None
    care_provider_name: str | None
    unit_name: str | None


@dataclass(frozen=True)
class Place:
    county: str
    care_provider_id: str | None
    care_provider_name: str | None
    unit_name: str | None


class Ctx:
    def __init__(
        self,
        calls: list[dict[str, Any]],
        units: list[dict[str, Any]],
        routing: list[dict[str, Any]],
        population: list[dict[str, Any]],
        date_from: dt.date,
        date_to: dt.date,
        filters: dict[str, list[str]] | None,
    ) -> None:
        self.date_from = max(date_from, DATA_START)
        self.date_to = date_to
        self.filters = {k: list(v) for k, v in (filters or {}).items() if v}
        for name in self.filters:
            if name not in FILTERS:
                raise ValueError(f"webbtidbokning has no filter {name!r}")
        self.catalogue = current_catalogue(units)
        self.routing = current_routing(routing)
        self.population: dict[tuple[str, int], int] = {}
        for p in population:
            self.population[(p["county_code"], int(p["year"]))] = int(p["population"])
        self.calls = [c for c in map(self._place_call, dedupe(calls)) if c is not None]

    def place(self, address: str) -> Place:
        unit = self.catalogue.get(address)
        if unit is None:
            return Place(UNKNOWN_COUNTY, None, None, None)
        cp_id = unit.get("care_provider_id")
        cp = self.catalogue.get(cp_id) if cp_id else None
        return Place(unit["county_code"], cp_id, cp["name"] if cp else None, unit["name"])

    def org_match(self, address: str, place: Place) -> bool:
        f = self.filters
        return (
            ("county" not in f or place.county in f["county"])
            and ("care_provider" not in f or place.care_provider_id in f["care_provider"])
            and ("unit" not in f or address in f["unit"])
        )

    def _place_call(self, c: dict[str, Any]) -> Call | None:
        day = stockholm_day(c["occurred_at"])
        if not self.date_from <= day <= self.date_to:
            return None
        if "activity" in self.filters and c["operation"] not in self.filters["activity"]:
            return None
        place = self.place(c["logical_address"])
        if not self.org_match(c["logical_address"], place):
            return None
        return Call(
            day,
            c["operation"],
            c["logical_address"],
            place.county,
            place.care_provider_id,
            place.care_provider_name,
            place.unit_name,
        )

    def activities(self, named: tuple[str, ...]) -> list[str]:
        chosen = self.filters.get("activity")
        return [a for a in named if chosen is None or a in chosen]

    def months(self) -> list[str]:
        return months(self.date_from, self.date_to)


def _month(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def events_per_month(ctx: Ctx, level: str) -> list[dict[str, Any]]:
    n = Counter((_month(c.day), c.operation) for c in ctx.calls)
    return [
        {"month": m, "activity": a, "events": n[(m, a)]}
        for m in ctx.months()
        for a in ctx.activities(THREE)
    ]


def my_bookings_per_month(ctx: Ctx, level: str) -> list[dict[str, Any]]:
    n = Counter(_month(c.day) for c in ctx.calls if c.operation == MINE)
    return [{"month": m, "events": n[m]} for m in ctx.months()]


def share_per_service(ctx: Ctx, level: str) -> list[dict[str, Any]]:
    acts = ctx.activities(THREE)
    n = Counter(c.operation for c in ctx.calls)
    total = sum(n[a] for a in acts)
    return [{"activity": a, "events": n[a], "share": n[a] / total if total else None} for a in acts]


def events_per_weekday(ctx: Ctx, level: str) -> list[dict[str, Any]]:
    n = Counter((c.day.isoweekday(), c.operation) for c in ctx.calls)
    days = weekday_days(ctx.date_from, ctx.date_to)
    return [
        {
            "weekday": w,
            "activity": a,
            "events": n[(w, a)],
            "days": days[w],
            "per_day": n[(w, a)] / days[w] if days[w] else None,
        }
        for w in range(1, 8)
        for a in ctx.activities(FOUR)
    ]


def bookings_per_county(ctx: Ctx, level: str) -> list[dict[str, Any]]:
    bookings = [c for c in ctx.calls if c.operation == BOOK]
    by_year: dict[str, Counter[int]] = defaultdict(Counter)
    used: dict[str, set[str]] = defaultdict(set)
    for c in bookings:
        by_year[c.county][c.day.year] += 1
        used[c.county].add(c.address)

    ops_by_address: dict[str, set[str]] = defaultdict(set)
    for r in ctx.routing:
        if r["operation"] in CONNECTED_NEEDS and active_on(r, ctx.date_to):
            ops_by_address[r["logical_address"]].add(r["operation"])
    connected: Counter[str] = Counter()
    for address, ops in ops_by_address.items():
        if ops >= set(CONNECTED_NEEDS):
            place = ctx.place(address)
            if ctx.org_match(address, place):
                connected[place.county] += 1

    years = list(range(ctx.date_from.year, ctx.date_to.year + 1))
    chosen = ctx.filters.get("county")
    axis = [c for c in COUNTIES if chosen is None or c in chosen]
    unknown_has_data = bool(
        sum(by_year[UNKNOWN_COUNTY].values()) or used[UNKNOWN_COUNTY] or connected[UNKNOWN_COUNTY]
    )
    if unknown_has_data and (chosen is None or UNKNOWN_COUNTY in chosen):
        axis.append(UNKNOWN_COUNTY)

    rows = []
    for county in axis:
        known = county != UNKNOWN_COUNTY
        rate: float | None = None
        if known:
            pops = {y: ctx.population.get((county, y)) or 0 for y in years}
            if all(pops.values()):
                rate = 1000 * sum(by_year[county][y] / pops[y] for y in years)
        rows.append(
            {
                "county_code": county,
                "county_name": county_name(county),
                "bookings": sum(by_year[county].values()),
                "population": ctx.population.get((county, ctx.date_to.year)) if known else None,
                "bookings_per_1000": rate,
                "units_used": len(used[county]),
                "units_connected": connected[county],
            }
        )
    return rows


def events_by_hierarchy(ctx: Ctx, level: str) -> list[dict[str, Any]]:
    keep = _KEEP[level]
    acts = ctx.activities(FOUR)
    sums: Counter[tuple[Any, ...]] = Counter()
    for c in ctx.calls:
        if c.operation not in acts:
            continue
        full = (
            c.county,
            county_name(c.county),
            c.care_provider_id,
            c.care_provider_name,
            c.address,
            c.unit_name,
            c.operation,
        )
        sums[full[:keep]] += 1
    order = {a: f"{i:02d}" for i, a in enumerate(FOUR)}

    def sort_key(key: tuple[Any, ...]) -> tuple[str, ...]:
        return tuple("" if v is None else order.get(v, str(v)) for v in key)

    return [
        {**dict(zip(HIERARCHY_COLUMNS[:keep], key, strict=True)), "events": n}
        for key, n in sorted(sums.items(), key=lambda kv: sort_key(kv[0]))
        if n
    ]


REPORTS: dict[str, Callable[[Ctx, str], list[dict[str, Any]]]] = {
    "events-per-month": events_per_month,
    "bookings-per-county": bookings_per_county,
    "share-per-service": share_per_service,
    "my-bookings-per-month": my_bookings_per_month,
    "events-per-weekday": events_per_weekday,
    "events-by-hierarchy": events_by_hierarchy,
}


def expected(
    report_id: str,
    *,
    calls: list[dict[str, Any]],
    units: list[dict[str, Any]],
    routing: list[dict[str, Any]],
    population: list[dict[str, Any]],
    date_from: dt.date,
    date_to: dt.date,
    level: str = "activity",
    filters: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """The rows of one report, as dicts keyed by the report's column names."""
    if report_id not in REPORTS:
        raise ValueError(f"unknown webbtidbokning report {report_id!r}")
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    ctx = Ctx(calls, units, routing, population, date_from, date_to, filters)
    return REPORTS[report_id](ctx, level)
