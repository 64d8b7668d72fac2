"""Answers of the PxWeb tables, through the report engine under the open tier.

Nothing here decides access, disclosure or limits of its own: every answer
is `engine.run` with no caller (the open tier: open reports only, the opt-in
rule, disclosure control, data-quality notes, the cell limit), the same call
the report API makes for an open request. What this module adds: the
categories of a table (one engine answer over all its months), the month
cuts (a report with a month column is asked once for the months chosen, any
other once per month) and the report filters that narrow a chosen
organisation or choice dimension, so the engine reads no more than asked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson

from core.errors import ParameterError
from reports import engine, limits
from reports.labels import Lang
from reports.pxweb import bodies
from reports.pxweb.cube import Cube, Dimension, Rows, categories, fill, narrowed
from reports.pxweb.selection import Selection, cells, resolve
from reports.pxweb.tables import NONE_CODE, TIME, Table, month_of, time_codes
from reports.reader import Reader
from reports.tiers import opted_in_providers

# The default selection where a request names no codes of a dimension: the
# latest 12 months, every category of the others (PxWeb's "default selection").
DEFAULT_MONTHS = "top(12)"


@dataclass(frozen=True)
class Bounds:
    """The deployment's settings every answer obeys (the report API's)."""

    open_care_providers: str = "*"
    max_cells: int = 0


def _run(
    table: Table, reader: Reader, bounds: Bounds, today: dt.date, lang: Lang,
    date_from: dt.date, date_to: dt.date, filters: Sequence[tuple[str, str]] = (),
    max_cells: int | None = None,
) -> engine.Result:  # fmt: skip
    pairs = [("from", date_from.isoformat()), ("to", date_to.isoformat()), ("lang", lang),
             *filters]  # fmt: skip
    if table.level:
        pairs.append(("level", table.level))
    return engine.run(
        table.report.service, table.report.id, pairs, reader, today=today, caller=None,
        open_care_providers=bounds.open_care_providers,
        max_cells=bounds.max_cells if max_cells is None else max_cells,
    )  # fmt: skip


class Cache(Protocol):
    """Where the categories of a table are kept a short while, shared by every
    API process (Redis, web/pxweb.py); a miss or an error is a recompute."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...


def encode(dims: list[Dimension], updated: dt.datetime | None) -> bytes:
    return orjson.dumps({
        "updated": updated.isoformat() if updated else None,
        "dims": [[d.id, d.label, d.codes, d.labels] for d in dims],
    })  # fmt: skip


def decode(raw: bytes) -> tuple[list[Dimension], dt.datetime | None]:
    body = orjson.loads(raw)
    updated = dt.datetime.fromisoformat(body["updated"]) if body["updated"] else None
    return [Dimension(i, label, codes, labels) for i, label, codes, labels in body["dims"]], updated


def cache_key(table: Table, bounds: Bounds, today: dt.date, lang: Lang) -> str:
    """Everything the categories depend on besides the data: the table, the
    language, the day (the months end today) and the opt-in list."""
    opted = hashlib.sha256(bounds.open_care_providers.encode()).hexdigest()[:16]
    return f"{table.id}|{lang}|{today.isoformat()}|{opted}"


def dimensions(
    table: Table, reader: Reader, bounds: Bounds, today: dt.date, lang: Lang,
    cache: Cache | None = None,
) -> tuple[list[Dimension], dt.datetime | None]:  # fmt: skip
    """Every dimension of the table with all its categories, and when the data
    was last updated: the open answer over all the table's months. Only its
    categories are kept, so it is not bounded by the cell limit (an answer's
    cells are, below). Kept in `cache` a short while: a client reads the
    metadata before every data request, and this is the table's whole history."""
    key = cache_key(table, bounds, today, lang)
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        return decode(hit)
    months = time_codes(table.report, today)
    if not months:
        return categories(table, [], months, lang), None
    whole = _run(table, reader, bounds, today, lang, table.report.data_start, today, max_cells=0)
    dims = categories(table, [Rows(whole.columns, whole.rows)], months, lang)
    if cache is not None:
        cache.set(key, encode(dims, whole.data_as_of))
    return dims, whole.data_as_of


def choose(table: Table, dims: list[Dimension], selection: Selection) -> dict[str, list[str]]:
    """The categories chosen per dimension (pure)."""
    known = {d.id for d in dims}
    for name in selection.values:
        if name not in known:
            raise ParameterError(
                f"valueCodes[{name[:64]}]",
                f"no such variable in {table.id}; its variables are {', '.join(sorted(known))}",
            )
    for name, cid in selection.codelists.items():
        col = next((c for c in table.dims if c.name == name), None)
        allowed = bodies.CODELISTS.get(str(col.level)) if col is not None else None
        if allowed is None or allowed[0] != cid:
            raise ParameterError(
                f"codelist[{name[:64]}]",
                "not a code list of this variable; see codeLists in the table's metadata",
            )
    chosen: dict[str, list[str]] = {}
    for d in dims:
        exprs = selection.values.get(d.id) or ((DEFAULT_MONTHS,) if d.id == TIME else ("*",))
        chosen[d.id] = resolve(d.id, exprs, d.codes, d.id == TIME)
    return chosen


def answer(
    table: Table, selection: Selection, reader: Reader, bounds: Bounds, today: dt.date,
    lang: Lang, cache: Cache | None = None,
) -> Cube:  # fmt: skip
    dims, updated = dimensions(table, reader, bounds, today, lang, cache)
    chosen = choose(table, dims, selection)
    # The cell limit of PxWeb: the selection's product, known before any query.
    limits.check(cells(len(v) for v in chosen.values()), bounds.max_cells)
    filters: list[tuple[str, str]] = []
    for d, col in ((d, c) for d in dims for c in table.dims if c.name == d.id):
        name = table.filter_of(col)
        picked = chosen[d.id]
        if name and len(picked) < len(d.codes) and NONE_CODE not in picked:
            filters.append((name, ",".join(picked)))
    months = chosen[TIME]
    answers: list[Rows] = []
    notes: list[str] = []
    results: list[engine.Result] = []
    if table.monthly:
        first, _ = month_of(months[0])
        _, last = month_of(months[-1])
        result = _run(table, reader, bounds, today, lang, first, last, filters)
        results.append(result)
        answers.append(Rows(result.columns, result.rows))
    else:
        for code in months:
            first, last = month_of(code)
            result = _run(table, reader, bounds, today, lang, first, last, filters)
            results.append(result)
            answers.append(Rows(result.columns, result.rows, code))
    for result in results:
        notes += [n for n in result.notes if n not in notes]
    cube = fill(table, narrowed(dims, chosen), answers)
    cube.notes = notes
    cube.updated = results[0].data_as_of if results else updated
    return cube


# --- code lists --------------------------------------------------------------

_PROVIDERS = (
    "SELECT hsa_id, any(name) FROM hsa_units FINAL WHERE deleted = 0 AND kind = 'care_provider' "
    "GROUP BY hsa_id ORDER BY hsa_id"
)
_UNITS = (
    "SELECT id, any(name), any(provider) FROM ("
    " SELECT hsa_id AS id, name, care_provider_id AS provider FROM hsa_units FINAL"
    " WHERE deleted = 0 AND kind = 'unit'"
    " UNION ALL"
    " SELECT unit_id AS id, name, care_provider_id AS provider FROM etj_units FINAL"
    " WHERE deleted = 0"
    ") GROUP BY id ORDER BY id"
)
_ETJ_PROVIDERS = (
    "SELECT DISTINCT care_provider_id FROM etj_units FINAL WHERE deleted = 0 "
    "AND care_provider_id != ''"
)


def codelist_values(cid: str, reader: Reader, bounds: Bounds) -> list[tuple[str, str]]:
    """The codes and names of a code list; care providers and units only of
    providers that opted in to open organisation rows (the open tier's rule)."""
    from schemas.counties import COUNTIES, UNKNOWN_COUNTY, UNKNOWN_COUNTY_NAME

    if cid == "vs_Lan":
        return [*COUNTIES.items(), (UNKNOWN_COUNTY, UNKNOWN_COUNTY_NAME)]
    allowed = opted_in_providers(bounds.open_care_providers)
    if cid == "vs_Vardgivare":
        found = {str(i): str(n) for i, n in reader.query_rows(_PROVIDERS)}
        for (i,) in reader.query_rows(_ETJ_PROVIDERS):
            found.setdefault(str(i), str(i))
        return [(i, n or i) for i, n in sorted(found.items()) if allowed is None or i in allowed]
    if cid == "vs_Enhet":
        return [
            (str(i), str(n) or str(i))
            for i, n, p in reader.query_rows(_UNITS)
            if allowed is None or p in allowed
        ]
    raise ParameterError("codelist", "no such code list; vs_Lan, vs_Vardgivare or vs_Enhet")
