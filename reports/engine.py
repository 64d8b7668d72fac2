"""Run a declared report: parameters in, a formatted-neutral answer out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from core.auth import ADMIN_ROLES, Caller
from core.errors import AccessDenied, ParameterError, UnknownReportError
from reports import catalogue, disclosure, limits, linked_disclosure, quality
from reports.declarations import Column, Report, ReportParams
from reports.lattice import Linked
from reports.params import parse
from reports.periods import comparison_period
from reports.reader import Reader, beside
from reports.tiers import (
    NOTE_OPEN_ORGANISATIONS,
    UnitProviders,
    authorize,
    check_open_filters,
    open_rows,
    scope,
    units_to_attribute,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")


NOTE_NO_COMPARISON = (
    "Jämförelseperioden ligger före den första dagen med data; den har inga värden."
)


@dataclass(frozen=True)
class Comparison:
    """The same report over the comparison period (`compare=previous|year`):
    the same columns, filters, level and disclosure control."""

    kind: str
    date_from: dt.date
    date_to: dt.date
    rows: list[list[Any]]
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "compare": self.kind,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "rows": self.rows,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Result:
    report: Report
    params: ReportParams
    columns: tuple[Column, ...]
    rows: list[list[Any]]
    notes: list[str]
    data_as_of: dt.datetime | None
    comparison: Comparison | None = None
    # the data-quality annotations behind the notes, with their dates, so a
    # chart can mark the days they cover
    annotations: list[quality.Marked] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        lang = self.params.lang
        out = {
            "report": self.report.id,
            "service": self.report.service,
            "title": self.report.title(lang),
            "params": self.params.echo(),
            "columns": [
                {"name": c.name, "label": c.label(lang), "type": c.type} for c in self.columns
            ],
            "rows": self.rows,
            "notes": self.notes,
            "data_as_of": self.data_as_of.isoformat() if self.data_as_of else None,
        }
        if self.annotations:  # absent when none: an answer's bytes stay as they were
            out["annotations"] = [m.to_json() for m in self.annotations]
        if self.comparison is not None:
            out["comparison"] = self.comparison.to_json()
        return out


def today_in_stockholm() -> dt.date:
    return dt.datetime.now(STOCKHOLM).date()


def lookup(service: str, report_id: str) -> Report:
    svc = catalogue.services().get(service)
    if svc is None:
        raise UnknownReportError(f"no service {service!r}; see GET /api/v1/reports")
    report = catalogue.find(service, report_id)
    if report is None:
        raise UnknownReportError(f"no report {report_id!r} in {service}; see GET /api/v1/reports")
    return report


def check_known_values(report: Report, params: ReportParams, reader: Reader) -> None:
    """A filter naming nothing we know is a mistake, not an empty answer."""
    for name, sql in report.lookups.items():
        wanted = params.values(name)
        if not wanted:
            continue
        known = {r[0] for r in reader.query_rows(sql, {"ids": list(wanted)})}
        missing = [w for w in wanted if w not in known]
        if missing:
            raise ParameterError(name, f"unknown {name.replace('_', ' ')} {missing[0][:64]!r}")


def data_as_of(reader: Reader) -> dt.datetime | None:
    rows = reader.query_rows("SELECT max(updated_at), count() FROM ingest_checkpoints")
    if not rows or not rows[0][1]:
        return None
    value: dt.datetime = rows[0][0]
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def run(
    service: str,
    report_id: str,
    pairs: list[tuple[str, str]],
    reader: Reader,
    today: dt.date | None = None,
    caller: Caller | None = None,
    open_care_providers: str = "*",
    max_cells: int = 0,
    max_pdf_cells: int = 0,
) -> Result:
    """`max_cells` bounds the answer, `max_pdf_cells` a PDF's (0 = none): the
    API passes the settings."""
    report = lookup(service, report_id)
    authorize(report, caller)
    parsed = parse(report, pairs, today or today_in_stockholm())
    params = scope(report, parsed, caller, open_care_providers)
    limit, pdf = limits.limit_for(params.format, max_cells, max_pdf_cells)
    limits.check(limits.least_cells(report, params), limit, at_least=True, pdf=pdf)
    if caller is not None and not report.platform_wide:
        check_connected(report, caller, reader)
    check_known_values(report, params, reader)
    allowed = params.open_care_providers if caller is None else None
    if allowed is not None:
        units = params.values("unit")
        check_open_filters(params.filters, allowed, unit_providers(report, reader, units))
    as_of = beside(data_as_of, reader)
    columns, rows, notes, annotations = _answer(report, params, reader, allowed, limit, pdf)
    comparison = None
    if params.compare:
        comparison = _comparison(report, params, reader, allowed, limit, pdf)
    return Result(report, params, columns, rows, notes, as_of.result(), comparison, annotations)


def _comparison(
    report: Report, params: ReportParams, reader: Reader, allowed: tuple[str, ...] | None,
    limit: int, pdf: bool,
) -> Comparison:  # fmt: skip
    date_from, date_to = comparison_period(params.date_from, params.date_to, params.compare)
    if date_to < report.data_start:
        return Comparison(params.compare, date_from, date_to, [], [NOTE_NO_COMPARISON])
    clamped = max(date_from, report.data_start)
    notes: list[str] = []
    if clamped > date_from:
        notes.append(
            f"Jämförelseperioden börjar {date_from} men data finns från {report.data_start}; "
            f"den har kortats till {clamped}–{date_to}."
        )
    earlier = replace(params, date_from=clamped, date_to=date_to, notes=tuple(notes))
    # the same level, so the same columns as the answer it is compared with
    _, rows, notes, _ = _answer(report, earlier, reader, allowed, limit, pdf)
    return Comparison(params.compare, clamped, date_to, rows, notes)


def _answer(
    report: Report, params: ReportParams, reader: Reader, allowed: tuple[str, ...] | None,
    limit: int, pdf: bool,
) -> tuple[tuple[Column, ...], list[list[Any]], list[str], list[quality.Marked]]:  # fmt: skip
    """One period's rows as served: queried, filtered for the open tier,
    disclosure-controlled, bounded, with the data-quality notes."""
    marks = beside(
        quality.overlapping, reader, report.service, report.id, params.date_from, params.date_to
    )
    answer = report.query(params, reader)
    columns = answer.columns or report.columns
    rows, notes = answer.rows, [*params.notes, *answer.notes]
    if allowed is not None:
        # After aggregation: totals and county rows count every unit; only
        # organisation rows of providers that did not opt in are left out.
        names = [c.name for c in columns]
        attributed = unit_providers(report, reader, units_to_attribute(names, rows))
        rows, dropped = open_rows(names, rows, allowed, attributed)
        if dropped:
            notes.append(NOTE_OPEN_ORGANISATIONS)
    if answer.linked is not None:

        def shown(names: Sequence[str], rows: list[list[Any]]) -> list[list[Any]]:
            # The same row filter as the answer's, run over every level behind it.
            if allowed is None:
                return rows
            found = unit_providers(report, reader, units_to_attribute(names, rows))
            return open_rows(names, rows, allowed, found)[0]

        rows, notes = _linked_control(answer.linked, columns, rows, notes, shown)
    # the answer as served, checked before anything formats it
    limits.check(limits.answer_cells(columns, rows), limit, pdf=pdf)
    marked = marks.result()
    return columns, rows, [*notes, *(m.note for m in marked)], marked


def _linked_control(
    linked: Linked, columns: Sequence[Column], rows: list[list[Any]], notes: list[str],
    shown: Callable[[Sequence[str], list[list[Any]]], list[list[Any]]],
) -> tuple[list[list[Any]], list[str]]:  # fmt: skip
    """Disclosure control decided over every level and total of the report's
    family, as the tier shows them, then applied to the rows asked for."""
    rows, primary, secondary = linked_disclosure.control(
        linked, shown, [c.name for c in columns], rows
    )
    if primary and disclosure.NOTE_PRIMARY not in notes:
        notes = [*notes, disclosure.NOTE_PRIMARY]
    if secondary:
        notes = [*notes, disclosure.NOTE_LINKED]
    return rows, notes


def check_connected(report: Report, caller: Caller, reader: Reader) -> None:
    if report.unit_scoped and any(r in caller.roles for r in ADMIN_ROLES):
        return  # the admin roles exist for this service; their scope is units
    sql = catalogue.services()[report.service].connected_sql
    if sql and not reader.query_rows(sql, {"ids": list(caller.care_providers)})[0][0]:
        raise AccessDenied(
            f"your organisation is not connected to {report.service} "
            "(rule: logged-in callers see only services their organisation uses)",
            403,
        )


def unit_providers(report: Report, reader: Reader, units: Sequence[str]) -> UnitProviders:
    """The current care provider(s) of each unit, as the report's service
    attributes units; a unit it cannot attribute is absent."""
    sql = catalogue.services()[report.service].unit_providers_sql
    if not units or not sql:
        return {}
    found: dict[str, set[str]] = {}
    for unit, provider in reader.query_rows(sql, {"ids": list(units)}):
        if provider:
            found.setdefault(str(unit), set()).add(str(provider))
    return found
