"""Report declarations: each report is declared once, and the API, the CLI,
the exports and the catalogue endpoint all read that declaration. The
services themselves are listed in reports/catalogue.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from reports.labels import Label, Labels

if TYPE_CHECKING:
    from reports.lattice import Linked
    from reports.reader import Reader


ColumnType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
Tier = Literal["open", "logged_in", "export"]


@dataclass(frozen=True)
class Column:
    name: str
    label_sv: str
    label_en: str
    type: ColumnType
    level: str | None = None  # drill-down level this column belongs to
    # JSON-stat: a name column is the category label of its id column, and
    # some integer columns (weekday) are dimensions rather than measures.
    label_of: str | None = None
    dimension: bool | None = None
    # Whether the column's values add up over the rows (a total row is their
    # sum): None = an integer measure does; distinct counts, stocks and rates
    # do not and say sums=False.
    sums: bool | None = None
    # A dimension column that only describes another one's category (a unit's
    # care type, a case type's kind): one value per category of that column,
    # so a table that crosses dimensions (the PxWeb tables, reports/pxweb/)
    # leaves it out of its cube instead of multiplying the cube by it.
    describes: str | None = None

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_sv

    @property
    def is_dimension(self) -> bool:
        if self.dimension is not None:
            return self.dimension
        return self.type in ("string", "date", "boolean") and self.label_of is None

    @property
    def is_additive(self) -> bool:
        if self.sums is not None:
            return self.sums
        return self.type == "integer" and not self.is_dimension


@dataclass(frozen=True)
class Answer:
    """What a report's query returns before formatting."""

    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    columns: tuple[Column, ...] | None = None  # narrowed by drill-down
    # The measure over every level of the drill-down and its totals: the engine
    # decides disclosure control over all of them, after the tier's row filter.
    linked: Linked | None = None


Query = Callable[["ReportParams", "Reader"], Answer]


@dataclass(frozen=True)
class Report:
    service: str
    id: str
    title_sv: str
    title_en: str
    # What the report counts, in plain Swedish and English for the people who
    # read it (REPORTS.md's exact definitions, without column or code names):
    # the pages, the catalogue, the XLSX notes and the PDF all show this one.
    definition: Label
    columns: tuple[Column, ...]
    query: Query
    filters: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # filter -> SQL returning which of {ids:Array(String)} exist: unknown ones are a 400
    lookups: dict[str, str] = field(default_factory=dict)
    levels: tuple[str, ...] = ()  # drill-down levels, default last
    tiers: tuple[Tier, ...] = ("open", "logged_in", "export")
    data_start: dt.date = dt.date(2017, 10, 1)
    # Rows or sums over units, so the admin roles (region_admin, unit_admin)
    # scope it by unit; a platform-wide report (logins, accounts) has no
    # organisation to scope and is the same for every caller.
    unit_scoped: bool = False
    platform_wide: bool = False

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_sv

    def describe_in(self, lang: str) -> str:
        return self.definition.en if lang == "en" else self.definition.sv

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "service": self.service,
            "title": self.title_sv,
            "title_en": self.title_en,
            "description": self.definition.sv,
            "description_en": self.definition.en,
            "columns": [
                {
                    "name": c.name,
                    "label": c.label_sv,
                    "label_en": c.label_en,
                    "type": c.type,
                    "sums": c.is_additive,
                }
                for c in self.columns
            ],
            "filters": list(self.filters),
            "levels": list(self.levels),
            "tiers": list(self.tiers),
            "data_start": self.data_start.isoformat(),
        }


@dataclass(frozen=True)
class Service:
    id: str
    title_sv: str
    title_en: str
    reports: tuple[Report, ...]
    # SQL answering how many of {ids:Array(String)} (care providers) use the
    # service: a logged-in caller whose organisation does not is refused.
    connected_sql: str = ""
    # SQL answering (unit_id, care_provider_id) pairs for the units in
    # {ids:Array(String)}, attributed as this service's reports attribute them:
    # the open tier's opt-in rule (reports/tiers.py) needs a unit's provider
    # for unit rows without a care_provider_id column and for a unit filter.
    unit_providers_sql: str = ""
    # What the pages call this service's own filters, levels and codes
    # (the organisation tree's are shared, in reports/labels.py).
    labels: Labels = field(default_factory=Labels)


@dataclass(frozen=True)
class ReportParams:
    date_from: dt.date
    date_to: dt.date
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    level: str | None = None
    format: str = "json"
    lang: str = "sv"
    # CSV: "" = the style's own (table: `;` in Swedish, `,` in English; machine: `,`)
    delimiter: str = ","
    notes: tuple[str, ...] = ()
    compare: str = ""  # "", "previous" or "year": the engine adds that period's answer
    # CSV for people (labels, rounded numbers, decimal comma in Swedish) or the
    # machine form (column names, codes, full precision); the API's default is
    # `table`, a ReportParams built in code (the CLI, benches) stays `machine`.
    style: str = "machine"
    # set by the engine from the verified token, never from a query parameter
    caller_care_providers: tuple[str, ...] = ()
    caller_county: str = ""  # region_admin: every unit of this county
    caller_units: tuple[str, ...] | None = None  # unit_admin: these units only
    # open callers: organisation rows only for these care providers (None = all)
    open_care_providers: tuple[str, ...] | None = None

    def values(self, name: str) -> tuple[str, ...]:
        return self.filters.get(name, ())

    def echo(self) -> dict[str, object]:
        out: dict[str, object] = {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
        }
        if self.level:
            out["level"] = self.level
        if self.compare:
            out["compare"] = self.compare
        for k, v in sorted(self.filters.items()):
            out[k] = list(v)
        return out
