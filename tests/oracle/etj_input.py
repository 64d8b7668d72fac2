"""The e-services oracle's input (tests/oracle/etj.py): the contract's
vocabulary, written down again on purpose, and the events and records read
into cases and units."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from schemas.counties import UNKNOWN_COUNTY
from tests.oracle.parsing import (
    by_content,
    dedupe,
    local_day,
    parse_instant,
)

STANDARD_CASE_TYPES: tuple[str, ...] = (
    "boka-tid",
    "av-omboka-tid",
    "bestall-tid",
    "fornya-recept",
    "kontakta-mottagningen",
    "radgivning",
    "bestall-intyg",
    "provsvar",
    "remiss",
    "lakemedelsfraga",
    "egenvard",
    "uppdatera-kontaktuppgifter",
)
KINDS = ("standard", "own", "integration")
CARE_TYPES = ("primarvard", "specialistvard", "tandvard", "psykiatri", "kommunal", "ovrig")
EVENTS = ("received", "assigned", "started", "answered", "closed")
ACTORS = ("resident", "staff")
METHODS = ("bankid", "freja", "siths", "password", "unknown")
LIMIT = dt.timedelta(hours=240)
LOST_DATES_BEFORE = dt.date(2009, 6, 1)

# --- input --------------------------------------------------------------------


def latest_records(records: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for rec in records:
        if rec.get("deleted") is True:
            out.pop(rec[key], None)
        else:
            out[rec[key]] = rec
    return out


@dataclass(frozen=True)
class Ev:
    event_id: str
    at: dt.datetime  # UTC
    day: dt.date  # Stockholm
    case_id: str
    unit_id: str
    case_type: str
    kind: str
    event: str
    assignee_id: str | None

    @property
    def order(self) -> tuple[dt.datetime, str]:
        return (self.at, self.event_id)


def _ev(e: dict[str, Any]) -> Ev:
    at = parse_instant(e["occurred_at"])
    if e["event"] not in EVENTS:
        raise ValueError(f"unknown case event {e['event']!r}")
    return Ev(
        event_id=e["event_id"],
        at=at,
        day=local_day(at),
        case_id=e["case_id"],
        unit_id=e["unit_id"],
        case_type=e["case_type"],
        kind=e["case_type_kind"],
        event=e["event"],
        assignee_id=e.get("assignee_id") or None,
    )


@dataclass(frozen=True)
class Case:
    case_id: str
    events: tuple[Ev, ...]  # in (instant, event_id) order

    @property
    def unit_id(self) -> str:
        return self.events[0].unit_id

    @property
    def case_type(self) -> str:
        return self.events[0].case_type

    @property
    def kind(self) -> str:
        return self.events[0].kind

    def first(self, kind: str) -> Ev | None:
        return next((e for e in self.events if e.event == kind), None)

    def latest(self, kind: str, before: dt.datetime) -> Ev | None:
        found = [e for e in self.events if e.event == kind and e.at < before]
        return found[-1] if found else None


def cases_of(events: Iterable[dict[str, Any]]) -> list[Case]:
    by_case: dict[str, list[Ev]] = defaultdict(list)
    for e in dedupe(events):
        ev = _ev(e)
        by_case[ev.case_id].append(ev)
    return [
        Case(case_id, tuple(sorted(evs, key=lambda e: e.order))) for case_id, evs in by_case.items()
    ]


@by_content
def read_cases(events: Sequence[dict[str, Any]]) -> tuple[Case, ...]:
    """cases_of, read once per distinct input (by_content): every report case
    of an end-to-end test reads the same events."""
    return tuple(cases_of(events))


def is_overdue(case: Case, t_end: dt.datetime) -> bool:
    """The overdue rule of REPORTS.md, judged at the instant `t_end`."""
    received = case.first("received")
    if received is None:
        return False
    limit = received.at + LIMIT
    if not limit < t_end:
        return False  # the 240 hours have not run out at the judgement
    answered, closed = case.first("answered"), case.first("closed")
    in_time = (
        answered is not None and answered.at <= limit and closed is not None and closed.at <= limit
    )
    return not in_time


class Units:
    """The current `etj.units.v1` record per unit."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self.rec = latest_records(records, "unit_id")

    def county(self, unit_id: str) -> str:
        rec = self.rec.get(unit_id)
        return rec["county_code"] if rec else UNKNOWN_COUNTY

    def get(self, unit_id: str, field: str) -> Any:
        rec = self.rec.get(unit_id)
        return rec.get(field) if rec else None
