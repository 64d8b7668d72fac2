"""Reference computation of every `e-tjanster` report (1177 e-services, seed 004).

Deliberately naive and independent of `reports/` and of `synth/`: plain Python
over the raw events and records, one report at a time, written from
REPORTS.md, so the ClickHouse implementation can be compared with it cell by
cell. It shares nothing with the production code except the county list.

Readings of REPORTS.md where the text leaves room (the SQL must match these):

Input
- Events (`cases`, `logins`) are deduplicated by `event_id`; the first
  occurrence in the given order wins. Delivery order never matters otherwise.
- Every instant is compared as an instant (converted to UTC on reading, so a
  DST change never bends a difference). Its day and month are those of
  Europe/Stockholm. A day is "in the period" when `date_from <= day <=
  date_to`. There is no data-start clipping for this service.
- "The end of the period" / "the end of the period's last day" is the instant
  T_end = Stockholm midnight starting `date_to + 1`. An event exactly at T_end
  belongs to the next day, so it is after the period.
- Order of events of a case: by instant, ties broken by `event_id` (string
  order). "First X" = the smallest (instant, event_id) among the case's `X`
  events; "latest assigned" = the largest. Repeated events of a kind are
  stored and only the first counts (the latest `assigned` only gives the
  assignee).
- A case's `unit_id`, `case_type` and `case_type_kind` are those of its first
  event (any kind, by the order above); the generator keeps them constant.
- Compacted records (`units`, `accounts`) are lists in publishing order: per
  key the last record in the list wins; a record `{key: ..., "deleted": True}`
  stands for a Kafka tombstone and removes the key (for every period: a
  tombstone has no time, compaction erases the history). `etj.units.v1` is the
  only source of unit name, county, care provider, care type, activation date,
  active flag and case-type configuration. A unit named by cases but absent
  (or tombstoned) has `unit_name` None, county "00", care provider None, care
  type None and active None.
- `created_at` / `deleted_at` of accounts are RFC 3339 instants.

Case milestones and the overdue rule
- received / assigned / started / answered / closed = the first event of that
  kind; counted on its Stockholm day.
- Elapsed hours = (later instant - earlier instant) in seconds / 3600, exact,
  unrounded, never clamped (a DST day has 23 or 25 hours).
- Overdue at T_end, with R = first received, L = R + 240 h, A = first
  answered, C = first closed:
      overdue  <=>  R exists and L < T_end and not (A <= L and C <= L)
  (a missing A or C compares as "not <= L"). This is the three clauses of
  REPORTS.md taken literally and judged at T_end: "not answered within 240 h",
  "answered but not closed within 240 h", "closed more than 240 h after
  receipt". Consequences: exactly 240 h is still in time (an answer or a
  closing at R + 240 h is not late; an open case is overdue only when T_end is
  strictly more than 240 h after R); a case closed within 240 h without ever
  being answered IS overdue (closing does not stop the answer clock); events
  after T_end cannot rescue a case (they are after L anyway when L < T_end). A
  case with no `received` is never overdue.

Reports
- connected-units: current unit records with `date_from <= activated_on <=
  date_to`. `activated_on` as "YYYY-MM-DD", `active` as given. The lost-date
  note (see `notes`) is due when some row has `activated_on < 2009-06-01`.
- cases-per-unit: per unit, cases whose first received / first assigned /
  first closed day is in the period (independently).
- cases-per-case-type: per (case_type, case_type_kind): first received, first
  closed in the period.
- accounts: an account counts when (latest record) `created_at < T_end` and
  (`deleted_at` missing/null or `deleted_at >= T_end`), i.e. created on or
  before `date_to` and not deleted by the end of it. Its county is the
  `county_code` of its latest login (largest (instant, event_id)) with
  instant < T_end, whatever the login's actor; "00" when it has no such login
  or that login carries no `county_code` (the latest login is taken as is,
  earlier logins do not fill the gap). The same rule places staff accounts.
  Logins of accounts absent from the records are ignored here.
- handling-times: per case_type (the id only; kind is not a key).
  received / closed as above. overdue = cases with at least one (deduplicated)
  event of any kind, repeats included, whose day is in the period, and that
  are overdue at T_end. Averages, each over the cases whose LATER milestone's
  day is in the period and that have the earlier milestone:
  received->assigned (first assigned in period), assigned->started (first
  started in period), started->closed and received->closed (first closed in
  period); None when no case qualifies.
- logins: every deduplicated login whose day is in the period, per month,
  `actor` and `method` as given. Only the five methods and two actors exist
  (others break the contract; the oracle refuses them).
- unanswered-cases: snapshot at T_end over events before T_end: cases with R
  and T_end - R > 240 h (strictly), no closed event before T_end, no answered
  event before T_end. `received_at` = R; `assigned_at` = first assigned
  before T_end (None if none); `assignee_id` = `assignee_id` of the latest
  assigned event before T_end (None if none or if that event carries none);
  `assignee_name` = "given_name family_name" from `persons` (last record per
  hsa_id), None when unknown. Instants are written as RFC 3339 in Stockholm
  local time with its offset, seconds (milliseconds when non-zero), e.g.
  "2024-03-22T12:00:00+01:00". Requires `caller` (logged-in only).
- case-status: each case at most once: first closed day in period -> closed;
  else first assigned day in period -> assigned; else first received day in
  period -> received. A case whose milestones all fall outside the period is
  not counted (a later reassignment in the period does not count, only the
  first assignment does). total = received + assigned + closed.
- case-types-per-unit: current configuration of each current unit, the
  period ignored. One column per standard id (the id is the column name):
  True when the unit's `case_types` has an entry with that id, kind
  "standard" and active True (several entries: any active one); else False.
  `own_case_types` / `integration_case_types` = number of distinct ids of
  entries of that kind, active or not ("registrerade" in the seed).

Disclosure control
- `resident_accounts` is a count of residents: 1-9 -> None (withheld) unless
  `mask=False`. No secondary suppression: no answer shows a total of
  resident accounts, and staff accounts are another population. Nothing else
  in this service counts residents (cases and logins are events, not people).

Filters (`filters` = {name: [values]}; several values are alternatives,
different names must all match; unknown names raise ValueError)
- `county`, `care_provider`, `unit`, `care_type`, `active_only` select units
  by their current record ("00" selects uncatalogued units; uncatalogued
  units never match a care provider, a care type or active_only).
  `active_only` is on when any value is "true" (or True). They apply to every
  report over units or cases (all but accounts and logins).
- `case_type` selects cases by their case_type (case reports only) and, on
  cases-per-case-type and handling-times, narrows the standard axis.
- accounts: only `county` applies (to the row county). logins: only `county`
  applies, matched against the login's own `county_code` (logins without one
  never match). Other filter names are accepted and ignored there.
- `caller` scopes units like a filter (every report except accounts and
  logins, which are platform-wide): a mapping with any of
  `care_providers` (list: the unit's current care provider must be one),
  `role` = "region_admin" with `county_code` (the unit's current county must
  equal it) or "unit_admin" with `unit_ids` (the unit must be one).

Axes and row order
- connected-units, cases-per-unit, case-status, case-types-per-unit,
  unanswered-cases: open-ended unit axis; cases-per-unit and case-status leave
  out units whose measures are all 0; connected-units and case-types-per-unit
  list every selected unit. Order: unit_id (unanswered-cases: unit_id, then
  received instant, then case_id).
- cases-per-case-type: the 12 standard ids with kind "standard" always, in
  REPORTS.md order (zeros included; a `case_type` filter narrows them to the
  chosen ones), then every other (case_type, kind) with a non-zero measure,
  ordered by (case_type_kind, case_type).
- handling-times: the 12 standard ids always (same narrowing), then every
  other case_type with a non-zero count or a non-None average, ordered by
  case_type.
- accounts: the 21 counties in code order (or, with a `county` filter, the
  chosen ones), then "00" when it has a non-zero count.
- logins: complete grid: every month the period touches x actor (resident,
  staff) x method (bankid, freja, siths, password, unknown), in that order,
  zeros included.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.counties import COUNTIES, UNKNOWN_COUNTY, county_name
from tests.oracle.etj_input import (
    ACTORS,
    CARE_TYPES,
    LIMIT,
    LOST_DATES_BEFORE,
    METHODS,
    STANDARD_CASE_TYPES,
    Case,
    Ev,
    Units,
    is_overdue,
    latest_records,
    read_cases,
)
from tests.oracle.parsing import (
    dedupe,
    hours,
    local_day,
    local_midnight,
    parse_instant,
    stamp,
)

# The oracle's surface; the input model and the contract reading live beside it.
__all__ = ["STANDARD_CASE_TYPES", "expected", "notes"]

FILTER_NAMES = ("county", "care_provider", "unit", "care_type", "case_type", "active_only")
REPORT_IDS = (
    "connected-units",
    "cases-per-unit",
    "cases-per-case-type",
    "accounts",
    "handling-times",
    "logins",
    "unanswered-cases",
    "case-status",
    "case-types-per-unit",
)
HANDLING_COLUMNS = (
    "case_type",
    "received",
    "closed",
    "overdue",
    "hours_received_to_assigned",
    "hours_assigned_to_started",
    "hours_started_to_closed",
    "hours_received_to_closed",
)

Rows = list[dict[str, Any]]


# --- context ------------------------------------------------------------------


def _truthy(values: Iterable[Any]) -> bool:
    return any(v is True or (isinstance(v, str) and v.lower() == "true") for v in values)


class Ctx:
    def __init__(
        self,
        *,
        cases: list[dict[str, Any]],
        logins: list[dict[str, Any]],
        accounts: list[dict[str, Any]],
        units: list[dict[str, Any]],
        persons: list[dict[str, Any]],
        date_from: dt.date,
        date_to: dt.date,
        filters: Mapping[str, Iterable[Any]] | None,
        caller: Mapping[str, Any] | None,
    ) -> None:
        if date_to < date_from:
            raise ValueError("the period ends before it starts")
        self.date_from, self.date_to = date_from, date_to
        self.t_end = local_midnight(date_to + dt.timedelta(days=1))
        self.filters: dict[str, set[Any]] = {}
        for name, values in (filters or {}).items():
            if name not in FILTER_NAMES:
                raise ValueError(f"unknown filter {name!r}")
            chosen = set(values)
            if name == "care_type" and (bad := chosen - set(CARE_TYPES)):
                raise ValueError(f"care_type: unknown value {sorted(bad)[0]!r}")
            if name == "county" and (bad := chosen - set(COUNTIES) - {UNKNOWN_COUNTY}):
                raise ValueError(f"county: unknown value {sorted(bad)[0]!r}")
            if chosen:
                self.filters[name] = chosen
        self.active_only = _truthy(self.filters.pop("active_only", set()))
        self.caller = caller
        if caller is not None and caller.get("role") not in (None, "region_admin", "unit_admin"):
            raise ValueError(f"unknown caller role {caller.get('role')!r}")
        self.units = Units(units)
        self.persons = latest_records(persons, "hsa_id")
        self.raw_cases = cases
        self.raw_logins = logins
        self.raw_accounts = accounts
        self._cases: list[Case] | None = None

    def in_period(self, day: dt.date) -> bool:
        return self.date_from <= day <= self.date_to

    def day_in_period(self, ev: Ev | None) -> bool:
        return ev is not None and self.in_period(ev.day)

    @property
    def cases(self) -> list[Case]:
        if self._cases is None:
            self._cases = [c for c in read_cases(self.raw_cases) if self.keep_case(c)]
        return self._cases

    def keep_unit(self, unit_id: str) -> bool:
        u = self.units
        dims = {
            "county": u.county(unit_id),
            "care_provider": u.get(unit_id, "care_provider_id"),
            "unit": unit_id,
            "care_type": u.get(unit_id, "care_type"),
        }
        for name, chosen in self.filters.items():
            if name in dims and dims[name] not in chosen:
                return False
        if self.active_only and u.get(unit_id, "active") is not True:
            return False
        return self.caller_allows(unit_id)

    def caller_allows(self, unit_id: str) -> bool:
        c = self.caller
        if c is None:
            return True
        if "care_providers" in c and self.units.get(unit_id, "care_provider_id") not in set(
            c["care_providers"]
        ):
            return False
        if c.get("role") == "region_admin" and self.units.county(unit_id) != c["county_code"]:
            return False
        return not (c.get("role") == "unit_admin" and unit_id not in set(c["unit_ids"]))

    def keep_case(self, c: Case) -> bool:
        chosen = self.filters.get("case_type")
        return self.keep_unit(c.unit_id) and (chosen is None or c.case_type in chosen)

    def unit_name(self, unit_id: str) -> Any:
        return self.units.get(unit_id, "name")

    def standard_axis(self) -> list[str]:
        chosen = self.filters.get("case_type")
        return [s for s in STANDARD_CASE_TYPES if chosen is None or s in chosen]


# --- reports ------------------------------------------------------------------


def _connected_units(c: Ctx) -> Rows:
    rows = []
    for unit_id in sorted(c.units.rec):
        rec = c.units.rec[unit_id]
        activated = dt.date.fromisoformat(rec["activated_on"])
        if c.in_period(activated) and c.keep_unit(unit_id):
            rows.append(
                {
                    "unit_id": unit_id,
                    "unit_name": rec["name"],
                    "county_code": rec["county_code"],
                    "care_type": rec["care_type"],
                    "activated_on": activated.isoformat(),
                    "active": rec["active"],
                }
            )
    return rows


def _cases_per_unit(c: Ctx) -> Rows:
    n: dict[str, Counter[str]] = defaultdict(Counter)
    for case in c.cases:
        for kind in ("received", "assigned", "closed"):
            if c.day_in_period(case.first(kind)):
                n[case.unit_id][kind] += 1
    return [
        {
            "unit_id": u,
            "unit_name": c.unit_name(u),
            "received": n[u]["received"],
            "assigned": n[u]["assigned"],
            "closed": n[u]["closed"],
        }
        for u in sorted(n)
    ]


def _cases_per_case_type(c: Ctx) -> Rows:
    n: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for case in c.cases:
        for kind in ("received", "closed"):
            if c.day_in_period(case.first(kind)):
                n[(case.case_type, case.kind)][kind] += 1
    standard = [(s, "standard") for s in c.standard_axis()]
    others = sorted((k for k in n if k not in standard), key=lambda k: (k[1], k[0]))
    return [
        {
            "case_type": t,
            "case_type_kind": kind,
            "received": n[(t, kind)]["received"],
            "closed": n[(t, kind)]["closed"],
        }
        for t, kind in standard + others
    ]


def _accounts(c: Ctx, mask: bool) -> Rows:
    latest_login: dict[str, tuple[tuple[dt.datetime, str], str]] = {}
    for e in dedupe(c.raw_logins):
        at = parse_instant(e["occurred_at"])
        if at >= c.t_end:
            continue
        key = (at, e["event_id"])
        old = latest_login.get(e["account_id"])
        if old is None or key > old[0]:
            latest_login[e["account_id"]] = (key, e.get("county_code") or UNKNOWN_COUNTY)
    n: dict[str, Counter[str]] = defaultdict(Counter)
    for account_id, a in latest_records(c.raw_accounts, "account_id").items():
        if a["actor"] not in ACTORS:
            raise ValueError(f"unknown actor {a['actor']!r}")
        if parse_instant(a["created_at"]) >= c.t_end:
            continue
        if a.get("deleted_at") and parse_instant(a["deleted_at"]) < c.t_end:
            continue
        county = latest_login[account_id][1] if account_id in latest_login else UNKNOWN_COUNTY
        n[county][a["actor"]] += 1
    chosen = c.filters.get("county")
    axis = [k for k in COUNTIES if chosen is None or k in chosen]
    if (chosen is None or UNKNOWN_COUNTY in chosen) and n[UNKNOWN_COUNTY].total():
        axis.append(UNKNOWN_COUNTY)
    rows = []
    for code in axis:
        residents = n[code]["resident"]
        rows.append(
            {
                "county_code": code,
                "county_name": county_name(code),
                "resident_accounts": None if mask and 1 <= residents <= 9 else residents,
                "staff_accounts": n[code]["staff"],
            }
        )
    return rows


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _handling_times(c: Ctx) -> Rows:
    @dataclass
    class Acc:
        received: int = 0
        closed: int = 0
        overdue: int = 0

        def __post_init__(self) -> None:
            self.pairs: dict[str, list[float]] = defaultdict(list)

    groups: dict[str, Acc] = defaultdict(Acc)
    pairs = (
        ("hours_received_to_assigned", "received", "assigned"),
        ("hours_assigned_to_started", "assigned", "started"),
        ("hours_started_to_closed", "started", "closed"),
        ("hours_received_to_closed", "received", "closed"),
    )
    for case in c.cases:
        g = groups[case.case_type]
        if c.day_in_period(case.first("received")):
            g.received += 1
        if c.day_in_period(case.first("closed")):
            g.closed += 1
        if any(c.in_period(e.day) for e in case.events) and is_overdue(case, c.t_end):
            g.overdue += 1
        for column, earlier, later in pairs:
            a, b = case.first(earlier), case.first(later)
            if a is not None and b is not None and c.in_period(b.day):
                g.pairs[column].append(hours(a.at, b.at))

    def row(case_type: str) -> dict[str, Any]:
        g = groups.get(case_type) or Acc()
        out: dict[str, Any] = {
            "case_type": case_type,
            "received": g.received,
            "closed": g.closed,
            "overdue": g.overdue,
        }
        for column, _, _ in pairs:
            out[column] = _mean(g.pairs.get(column, []))
        return out

    standard = c.standard_axis()
    rows = [row(s) for s in standard]
    for case_type in sorted(k for k in groups if k not in standard):
        r = row(case_type)
        if any(r[k] for k in HANDLING_COLUMNS[1:4]) or any(
            r[k] is not None for k in HANDLING_COLUMNS[4:]
        ):
            rows.append(r)
    return rows


def months(date_from: dt.date, date_to: dt.date) -> list[str]:
    out = []
    y, m = date_from.year, date_from.month
    while (y, m) <= (date_to.year, date_to.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _logins(c: Ctx) -> Rows:
    chosen = c.filters.get("county")
    n: Counter[tuple[str, str, str]] = Counter()
    for e in dedupe(c.raw_logins):
        if e["actor"] not in ACTORS or e["method"] not in METHODS:
            raise ValueError(f"login outside the contract: {e['actor']!r}, {e['method']!r}")
        day = local_day(parse_instant(e["occurred_at"]))
        if not c.in_period(day):
            continue
        if chosen is not None and e.get("county_code") not in chosen:
            continue
        n[(f"{day.year:04d}-{day.month:02d}", e["actor"], e["method"])] += 1
    return [
        {"month": m, "actor": a, "method": k, "logins": n[(m, a, k)]}
        for m in months(c.date_from, c.date_to)
        for a in ACTORS
        for k in METHODS
    ]


def _unanswered_cases(c: Ctx) -> Rows:
    if c.caller is None:
        raise ValueError("unanswered-cases is logged-in only: pass caller")
    found: list[tuple[tuple[str, dt.datetime, str], dict[str, Any]]] = []
    for case in c.cases:
        received = case.first("received")
        if received is None or not c.t_end - received.at > LIMIT:
            continue
        if any(e.at < c.t_end and e.event in ("answered", "closed") for e in case.events):
            continue
        first_assigned = case.first("assigned")
        if first_assigned is not None and first_assigned.at >= c.t_end:
            first_assigned = None
        last_assigned = case.latest("assigned", c.t_end)
        assignee = last_assigned.assignee_id if last_assigned else None
        person = c.persons.get(assignee) if assignee else None
        row = {
            "unit_id": case.unit_id,
            "unit_name": c.unit_name(case.unit_id),
            "case_id": case.case_id,
            "case_type": case.case_type,
            "received_at": stamp(received.at),
            "assigned_at": stamp(first_assigned.at) if first_assigned else None,
            "assignee_id": assignee,
            "assignee_name": f"{person['given_name']} {person['family_name']}" if person else None,
        }
        found.append(((case.unit_id, received.at, case.case_id), row))
    return [row for _, row in sorted(found, key=lambda f: f[0])]


def _case_status(c: Ctx) -> Rows:
    n: dict[str, Counter[str]] = defaultdict(Counter)
    for case in c.cases:
        for kind in ("closed", "assigned", "received"):
            if c.day_in_period(case.first(kind)):
                n[case.unit_id][kind] += 1
                break
    rows = []
    for u in sorted(n):
        received, assigned, closed = n[u]["received"], n[u]["assigned"], n[u]["closed"]
        rows.append(
            {
                "unit_id": u,
                "unit_name": c.unit_name(u),
                "received": received,
                "assigned": assigned,
                "closed": closed,
                "total": received + assigned + closed,
            }
        )
    return rows


def _case_types_per_unit(c: Ctx) -> Rows:
    rows = []
    for unit_id in sorted(c.units.rec):
        if not c.keep_unit(unit_id):
            continue
        rec = c.units.rec[unit_id]
        entries = rec.get("case_types") or []
        row: dict[str, Any] = {"unit_id": unit_id, "unit_name": rec["name"]}
        for s in STANDARD_CASE_TYPES:
            row[s] = any(
                e["id"] == s and e["kind"] == "standard" and e["active"] is True for e in entries
            )
        row["own_case_types"] = len({e["id"] for e in entries if e["kind"] == "own"})
        row["integration_case_types"] = len(
            {e["id"] for e in entries if e["kind"] == "integration"}
        )
        rows.append(row)
    return rows


_REPORTS: dict[str, Callable[[Ctx], Rows]] = {
    "connected-units": _connected_units,
    "cases-per-unit": _cases_per_unit,
    "cases-per-case-type": _cases_per_case_type,
    "handling-times": _handling_times,
    "logins": _logins,
    "unanswered-cases": _unanswered_cases,
    "case-status": _case_status,
    "case-types-per-unit": _case_types_per_unit,
}


def expected(
    report_id: str,
    *,
    cases: list[dict[str, Any]],
    logins: list[dict[str, Any]],
    accounts: list[dict[str, Any]],
    units: list[dict[str, Any]],
    persons: list[dict[str, Any]],
    date_from: dt.date,
    date_to: dt.date,
    filters: Mapping[str, Iterable[Any]] | None = None,
    caller: Mapping[str, Any] | None = None,
    mask: bool = True,
) -> Rows:
    """The rows of one report, as dicts keyed by the REPORTS.md column names.

    A withheld cell (only `resident_accounts`, see the module notes) is None.
    """
    if report_id not in REPORT_IDS:
        raise ValueError(f"unknown e-tjanster report {report_id!r}")
    ctx = Ctx(
        cases=cases,
        logins=logins,
        accounts=accounts,
        units=units,
        persons=persons,
        date_from=date_from,
        date_to=date_to,
        filters=filters,
        caller=caller,
    )
    if report_id == "accounts":
        return _accounts(ctx, mask)
    return _REPORTS[report_id](ctx)


def notes(report_id: str, rows: Rows) -> list[str]:
    """Tags of the notes an answer with these rows must carry (texts are the API's)."""
    out = []
    if report_id == "connected-units" and any(
        dt.date.fromisoformat(r["activated_on"]) < LOST_DATES_BEFORE for r in rows
    ):
        out.append("activation-date-lost")
    if report_id == "accounts" and any(r["resident_accounts"] is None for r in rows):
        out.append("withheld")
    return out
