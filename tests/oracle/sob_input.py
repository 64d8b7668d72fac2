"""The support-and-treatment oracle's input (tests/oracle/sob.py): the
constants of the readings, the transactions and units read into moments and
a catalogue, the periods, the computation context and the disclosure rule,
written down again on purpose."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from schemas.counties import UNKNOWN_COUNTY
from tests.oracle.parsing import STHLM, by_content, dedupe, parse_instant

DATA_START = dt.date(2015, 10, 1)
GENDERS = ("F", "M", "U")
AGE_GROUPS = ("0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+", "okänd")
UNKNOWN_REASON = "Okänd"
FILTER_NAMES = ("county", "care_provider", "unit", "process", "moment")

Rows = list[dict[str, Any]]
Withheld = set[tuple[int, str]]


# --- input --------------------------------------------------------------------


@dataclass(frozen=True)
class Tx:
    event_id: str
    at: dt.datetime
    day: dt.date  # Stockholm
    case_id: str
    case_type: str
    status: str
    process: str
    moment: str
    care_provider_id: str
    unit_id: str
    practitioner_id: str | None
    patient_id: str | None
    gender: str | None
    age: int | None
    closing_reason: str | None

    @property
    def order(self) -> tuple[dt.datetime, str]:
        return (self.at, self.event_id)


@dataclass(frozen=True)
class Moment:
    case_id: str
    start: Tx | None
    done: Tx | None


def _tx(e: dict[str, Any]) -> Tx:
    at = parse_instant(e["occurred_at"])
    return Tx(
        event_id=e["event_id"],
        at=at,
        day=at.astimezone(STHLM).date(),
        case_id=e["case_id"],
        case_type=e["case_type"],
        status=e["status"],
        process=e["process_name"],
        moment=e["moment_name"],
        care_provider_id=e["care_provider_id"],
        unit_id=e["care_unit_id"],
        practitioner_id=e.get("practitioner_id") or None,
        patient_id=e.get("patient_id") or None,
        gender=e.get("patient_gender") or None,
        age=e.get("patient_age"),
        closing_reason=e.get("closing_reason") or None,
    )


def moments_of(txs: Iterable[Tx]) -> list[Moment]:
    by_case: dict[str, list[Tx]] = defaultdict(list)
    for t in txs:
        if t.case_type == "Process":
            by_case[t.case_id].append(t)
    out = []
    for case_id, ts in by_case.items():
        starts = [t for t in ts if t.status == "Inprogress"]
        dones = [t for t in ts if t.status == "Done"]
        start = min(starts, key=lambda t: t.order) if starts else None
        done = min(dones, key=lambda t: t.order) if dones else None
        if start or done:
            out.append(Moment(case_id, start, done))
    return out


@by_content
def read_transactions(
    transactions: Sequence[dict[str, Any]],
) -> tuple[tuple[Tx, ...], tuple[Moment, ...]]:
    """The transactions (duplicates dropped) and the moments they make; the
    same for every report case over the same input, so read once (by_content)."""
    txs = tuple(_tx(e) for e in dedupe(transactions))
    return txs, tuple(moments_of(txs))


class Catalogue:
    def __init__(self, units: Iterable[dict[str, Any]]) -> None:
        latest: dict[str, tuple[dt.datetime, dict[str, Any]]] = {}
        for rec in units:
            at = parse_instant(rec["updated_at"])
            old = latest.get(rec["hsa_id"])
            if old is None or at >= old[0]:
                latest[rec["hsa_id"]] = (at, rec)
        self._rec = {k: v for k, (_, v) in latest.items()}

    def county(self, care_provider_id: str) -> str:
        rec = self._rec.get(care_provider_id)
        return rec["county_code"] if rec else UNKNOWN_COUNTY

    def name(self, hsa_id: str) -> str | None:
        rec = self._rec.get(hsa_id)
        return rec["name"] if rec else None


# --- periods ------------------------------------------------------------------


def _month_end(d: dt.date) -> dt.date:
    nxt = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def months(date_from: dt.date, date_to: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """(YYYY-MM, first day inside the period, last day inside the period)."""
    out = []
    d = date_from
    while d <= date_to:
        last = min(_month_end(d), date_to)
        out.append((f"{d.year:04d}-{d.month:02d}", d, last))
        d = last + dt.timedelta(days=1)
    return out


def age_group(age: int | None) -> str:
    if age is None:
        return "okänd"
    for bound, label in ((17, "0-17"), (24, "18-24"), (34, "25-34"), (44, "35-44")):
        if age <= bound:
            return label
    for bound, label in ((54, "45-54"), (64, "55-64"), (74, "65-74")):
        if age <= bound:
            return label
    return "75+"


# --- the computation context --------------------------------------------------


class Ctx:
    def __init__(
        self,
        transactions: list[dict[str, Any]],
        units: list[dict[str, Any]],
        practitioners: list[dict[str, Any]],
        date_from: dt.date,
        date_to: dt.date,
        filters: dict[str, list[str]] | None,
    ) -> None:
        self.date_from = max(date_from, DATA_START)
        self.date_to = date_to
        if self.date_to < self.date_from:
            raise ValueError("the period ends before it starts (or before data begins)")
        for name in filters or {}:
            if name not in FILTER_NAMES:
                raise ValueError(f"unknown filter {name!r}")
        self.filters = {k: set(v) for k, v in (filters or {}).items() if v}
        self.catalogue = Catalogue(units)
        self.persons = {p["hsa_id"]: p for p in practitioners}
        txs, moments = read_transactions(transactions)
        self.txs = list(txs)
        self.moments = list(moments)

    def county(self, t: Tx) -> str:
        return self.catalogue.county(t.care_provider_id)

    def keep(self, t: Tx) -> bool:
        dims = {
            "county": self.county(t),
            "care_provider": t.care_provider_id,
            "unit": t.unit_id,
            "process": t.process,
            "moment": t.moment,
        }
        return all(dims[k] in chosen for k, chosen in self.filters.items())

    def started(self, lo: dt.date, hi: dt.date) -> list[Moment]:
        return [
            m for m in self.moments if m.start and lo <= m.start.day <= hi and self.keep(m.start)
        ]

    def completed(self, lo: dt.date, hi: dt.date) -> list[Moment]:
        return [m for m in self.moments if m.done and lo <= m.done.day <= hi and self.keep(m.done)]

    def ongoing(self, snapshot: dt.date) -> list[Moment]:
        return [
            m
            for m in self.moments
            if m.start
            and m.start.day <= snapshot
            and (m.done is None or m.done.day > snapshot)
            and self.keep(m.start)
        ]

    def closing_reason(self, m: Moment) -> str | None:
        if m.done is None or m.done.day > self.date_to:
            return None
        return m.done.closing_reason or UNKNOWN_REASON

    def latest_per_patient(self, lo: dt.date, hi: dt.date) -> dict[str, Tx]:
        latest: dict[str, Tx] = {}
        for t in self.txs:
            if (
                t.case_type == "Process"
                and t.patient_id
                and lo <= t.day <= hi
                and self.keep(t)
                and (t.patient_id not in latest or t.order > latest[t.patient_id].order)
            ):
                latest[t.patient_id] = t
        return latest


def practitioners_of(started: Iterable[Moment], completed: Iterable[Moment]) -> int:
    ids = {m.start.practitioner_id for m in started if m.start and m.start.practitioner_id}
    ids |= {m.done.practitioner_id for m in completed if m.done and m.done.practitioner_id}
    return len(ids)


# --- disclosure control -------------------------------------------------------


def masked(n: int) -> bool:
    return 1 <= n <= 9


def secondary(values: dict[Any, int], withheld: set[Any], group: list[Any]) -> Any | None:
    """The extra cell to withhold in a group with a known total, or None.

    Needed only when exactly one cell of the group is withheld; the smallest
    shown non-zero cell is taken (first in `group` order on ties). If every
    shown cell is 0 the group's total equals the withheld cell and is itself
    unknown, so nothing more is needed.
    """
    if sum(1 for k in group if k in withheld) != 1:
        return None
    candidates = [k for k in group if k not in withheld and values[k] > 0]
    if not candidates:
        return None
    return min(candidates, key=lambda k: (values[k], group.index(k)))


def gender_suppression(counts: dict[str, int]) -> set[str]:
    hidden = {g for g in GENDERS if masked(counts[g])}
    extra = secondary(counts, hidden, list(GENDERS))
    return hidden | ({extra} if extra is not None else set())
