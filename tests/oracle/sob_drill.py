"""The support-and-treatment oracle's drill-downs (moments-by-hierarchy and
moments-by-moment), plain Python over the context of tests/oracle/sob_input.py;
tests/oracle/sob.py holds the readings and the other reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas.counties import county_name
from tests.oracle.sob_input import Ctx, Moment, Rows, Tx, Withheld, masked

HIERARCHY_LEVELS = ("county", "care_provider", "unit", "moment", "closing_reason")
MOMENT_LEVELS = ("moment", "county", "care_provider", "unit")


def _sort_key(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in key)


@dataclass
class _Agg:
    started: int = 0
    ongoing: int = 0
    completed: int = 0

    def __post_init__(self) -> None:
        self.residents: set[str] = set()
        self.practitioners: set[str] = set()


def _drilldown(
    c: Ctx, key_of: Callable[[Tx, Moment], tuple[Any, ...]], with_ongoing: bool
) -> dict[tuple[Any, ...], _Agg]:
    groups: dict[tuple[Any, ...], _Agg] = defaultdict(_Agg)
    for m in c.started(c.date_from, c.date_to):
        assert m.start
        g = groups[key_of(m.start, m)]
        g.started += 1
        if m.start.patient_id:
            g.residents.add(m.start.patient_id)
        if m.start.practitioner_id:
            g.practitioners.add(m.start.practitioner_id)
    if with_ongoing:
        for m in c.ongoing(c.date_to):
            assert m.start
            groups[key_of(m.start, m)].ongoing += 1
    for m in c.completed(c.date_from, c.date_to):
        assert m.done
        g = groups[key_of(m.done, m)]
        g.completed += 1
        if m.done.practitioner_id:
            g.practitioners.add(m.done.practitioner_id)
    return groups


HIERARCHY_KEYS = (
    "county_code",
    "county_name",
    "care_provider_id",
    "care_provider_name",
    "unit_id",
    "unit_name",
    "moment",
    "closing_reason",
)


def _moments_by_hierarchy(c: Ctx, level: str | None) -> tuple[Rows, Withheld]:
    level = level or HIERARCHY_LEVELS[-1]
    depth = {"county": 2, "care_provider": 4, "unit": 6, "moment": 7, "closing_reason": 8}[level]

    def key_of(t: Tx, m: Moment) -> tuple[Any, ...]:
        county = c.county(t)
        full = (
            county,
            county_name(county),
            t.care_provider_id,
            c.catalogue.name(t.care_provider_id),
            t.unit_id,
            c.catalogue.name(t.unit_id),
            t.moment,
            c.closing_reason(m),
        )
        return full[:depth]

    groups = _drilldown(c, key_of, with_ongoing=True)
    rows: Rows = []
    withheld: Withheld = set()
    for key in sorted(groups, key=_sort_key):
        g = groups[key]
        residents = len(g.residents)
        row = dict(zip(HIERARCHY_KEYS[:depth], key, strict=True))
        row |= {
            "started": g.started,
            "ongoing": g.ongoing,
            "completed": g.completed,
            "residents": None if masked(residents) else residents,
            "practitioners": len(g.practitioners),
        }
        if masked(residents):
            withheld.add((len(rows), "residents"))
        rows.append(row)
    return rows, withheld


def _moments_by_moment(c: Ctx, level: str | None) -> tuple[Rows, Withheld]:
    level = level or MOMENT_LEVELS[-1]
    depth = MOMENT_LEVELS.index(level) + 1
    names = ("moment", "county_code", "care_provider_id", "unit_id")

    def key_of(t: Tx, m: Moment) -> tuple[Any, ...]:
        return (t.moment, c.county(t), t.care_provider_id, t.unit_id)[:depth]

    groups = _drilldown(c, key_of, with_ongoing=False)
    rows: Rows = []
    withheld: Withheld = set()
    for key in sorted(groups, key=_sort_key):
        g = groups[key]
        residents = len(g.residents)
        row = dict(zip(names[:depth], key, strict=True))
        row |= {
            "started": g.started,
            "completed": g.completed,
            "residents": None if masked(residents) else residents,
            "practitioners": len(g.practitioners),
        }
        if masked(residents):
            withheld.add((len(rows), "residents"))
        rows.append(row)
    return rows, withheld
