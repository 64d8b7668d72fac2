"""The PxWeb tables, read from the report declarations; pure.

A table is one open report at one drill-down level (a report without levels
is one table). Its cube crosses:
- the report's dimension columns at that level, except those a finer one
  implies: along the organisation tree only the finest of county, care
  provider and unit present is a dimension (a unit's county is a property of
  the unit, not a dimension to cross it with), and a column declared as
  `describes` another (a unit's care type) is left out;
- `ContentsCode`, the report's measures;
- `Tid`, the month: a report with a month column is cut by it; any other
  report (a sum over its period) is answered once per month asked.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from core.errors import UnknownReportError
from reports import catalogue
from reports.declarations import Column, Report
from reports.labels import ORG_LEVELS, Label
from reports.periods import months

TIME = "Tid"
CONTENTS = "ContentsCode"
MONTH_COLUMN = "month"
# A dimension's empty (NULL) value, e.g. a moment not yet closed: a code
# must be a non-empty string in valueCodes and JSON-stat.
NONE_CODE = "_"
TIME_LABEL = Label("månad", "month")
CONTENTS_LABEL = Label("tabellinnehåll", "table contents")
_MONTH_CODE = re.compile(r"^(\d{4})M(0[1-9]|1[0-2])$")


class UnknownTable(UnknownReportError):
    """No open table has this id; HTTP 404."""


@dataclass(frozen=True)
class Table:
    id: str
    report: Report
    level: str | None
    columns: tuple[Column, ...]  # the report's answer columns at this level
    dims: tuple[Column, ...]  # cube dimensions besides contents and time, in column order
    contents: tuple[Column, ...]  # the measures
    monthly: bool  # the report has a month column (else: one answer per month)

    @property
    def dimension_ids(self) -> list[str]:
        """The cube's dimensions in JSON-stat order (the PX file's too: the
        stub, then the month as heading)."""
        return [d.name for d in self.dims] + [CONTENTS, TIME]

    def label(self, lang: str, level_label: Label | None = None) -> str:
        title = self.report.title(lang)
        if self.level is None:
            return title
        by = level_label.text("en" if lang == "en" else "sv") if level_label else self.level
        return f"{title}, {'by' if lang == 'en' else 'per'} {by}"

    def filter_of(self, dim: Column) -> str | None:
        """The report filter that narrows this dimension (county_code -> county),
        when the report has one and its values are codes of the dimension."""
        for name in (dim.name, dim.name.removesuffix("_code"), dim.name.removesuffix("_id")):
            if name in self.report.filters and (
                dim.level in ORG_LEVELS or name in self.report.choices
            ):
                return name
        return None


def columns_at(report: Report, level: str | None) -> tuple[Column, ...]:
    """The answer's columns at a drill-down level: the columns of that level
    and those above it, and every column of no level (measures)."""
    if level is None or not report.levels:
        return report.columns
    shown = set(report.levels[: report.levels.index(level) + 1])
    return tuple(c for c in report.columns if c.level is None or c.level in shown)


def cube_dimensions(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    dims = [c for c in columns if c.is_dimension and c.name != MONTH_COLUMN and not c.describes]
    org = [c for c in dims if c.level in ORG_LEVELS]
    if org:
        finest = max(ORG_LEVELS.index(str(c.level)) for c in org)
        dims = [c for c in dims if c.level not in ORG_LEVELS or ORG_LEVELS.index(c.level) == finest]
    return tuple(dims)


def contents_of(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    return tuple(c for c in columns if not c.is_dimension and c.label_of is None)


def table_id(report: Report, level: str | None) -> str:
    return f"{report.service}.{report.id}" + (f".{level}" if level else "")


def make(report: Report, level: str | None) -> Table:
    columns = columns_at(report, level)
    return Table(
        table_id(report, level), report, level, columns, cube_dimensions(columns),
        contents_of(columns), any(c.name == MONTH_COLUMN for c in columns),
    )  # fmt: skip


@functools.cache
def all_tables() -> tuple[Table, ...]:
    """Every open report of every service, per drill-down level, in the
    catalogue's order (the declarations are constants: built once)."""
    out: list[Table] = []
    for service in catalogue.SERVICES:
        for report in service.reports:
            if "open" not in report.tiers:
                continue
            out += [make(report, level) for level in (report.levels or (None,))]
    return tuple(out)


def find(table: str) -> Table:
    found = next((t for t in all_tables() if t.id.lower() == table.lower()), None)
    if found is None:
        raise UnknownTable("no such table; GET /api/pxweb/v2/tables lists them")
    return found


def month_code(month: str) -> str:
    """2024-01 (the reports' month) -> 2024M01 (PxWeb's)."""
    return f"{month[:4]}M{month[5:7]}"


def month_of(code: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a month code (2024M01)."""
    found = _MONTH_CODE.match(code)
    if found is None:
        raise ValueError(code)
    first = dt.date(int(found[1]), int(found[2]), 1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def time_codes(report: Report, today: dt.date) -> list[str]:
    """Every month of the table, oldest first: from the report's first day
    with data to the month of today (the last one is partial; the answer's
    notes say the period was cut at today)."""
    if today < report.data_start:
        return []
    return [month_code(m) for m in months(report.data_start, today)]
