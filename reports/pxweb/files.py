"""An answer in the formats people open: CSV, XLSX (the report API's own
writers, reports/formats.py) and PX (px.py); pure.

CSV and XLSX are the cube as a long table: one row per combination of the
chosen categories (the month last), a column per dimension (its code, and its
label beside it where they differ) and one per measure. `UseTexts` (the
default) writes it as the report API's `style=table` does (labels, numbers
as on the page; in Swedish `;` and a decimal comma, for Swedish Excel),
`UseCodes` as its `style=machine` (codes, full precision, `,`).
`SeparatorSemicolon` and `SeparatorTab` choose the separator.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.errors import ParameterError
from reports import formats
from reports.declarations import Column, ReportParams
from reports.engine import Result
from reports.labels import Lang
from reports.pxweb import bodies, px
from reports.pxweb.cube import Cube
from reports.pxweb.tables import CONTENTS, TIME, month_of

PARAMS = ("UseCodes", "UseTexts", "UseCodesAndTexts", "IncludeTitle",
          "SeparatorTab", "SeparatorSpace", "SeparatorSemicolon")  # fmt: skip
MEDIA = {
    "json-stat2": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": formats.MEDIA["xlsx"],
    "px": "application/octet-stream",
}
EXTENSION = {"json-stat2": "json", "csv": "csv", "xlsx": "xlsx", "px": "px"}


def output_format(raw: str | None) -> str:
    fmt = (raw or "json-stat2").lower()
    if fmt == "jsonstat2":
        fmt = "json-stat2"
    if fmt not in bodies.FORMATS:
        raise ParameterError("outputFormat", f"one of {', '.join(bodies.FORMATS)}")
    return fmt


def format_params(raw: str | None) -> tuple[str, ...]:
    given = tuple(p.strip() for p in (raw or "").split(",") if p.strip())
    known = {p.lower(): p for p in PARAMS}
    out = []
    for p in given:
        if p.lower() not in known:
            raise ParameterError("outputFormatParams", f"each one of {', '.join(PARAMS)}")
        out.append(known[p.lower()])
    return tuple(out)


TIME_COLUMN = Column(TIME, "Månad", "Month", "string")


def long_result(cube: Cube, lang: Lang, fmt: str, options: tuple[str, ...]) -> Result:
    """The cube as a report Result, for the report API's CSV and XLSX writers."""
    table = cube.table
    others = [d for d in cube.dimensions if d.id != CONTENTS]
    by_name = {c.name: c for c in table.columns}
    columns: list[Column] = []
    named: list[bool] = []
    for d in others:
        col = TIME_COLUMN if d.id == TIME else by_name[d.id]
        col = Column(col.name, col.label_sv, col.label_en, "string", dimension=True)
        columns.append(col)
        differs = any(d.labels[c] != c for c in d.codes)
        named.append(differs)
        if differs:
            columns.append(Column(f"{d.id}_text", col.label_sv, col.label_en, "string",
                                  label_of=d.id))  # fmt: skip
    contents = next(d for d in cube.dimensions if d.id == CONTENTS)
    columns += [by_name[c] for c in contents.codes]
    rows: list[list[Any]] = []
    for codes, values in cube.flat():
        row: list[Any] = []
        for d, code, with_name in zip(others, codes, named, strict=True):
            row.append(code)
            if with_name:
                row.append(d.labels[code])
        rows.append(row + values)
    months = next(d for d in cube.dimensions if d.id == TIME).codes
    first, last = month_of(months[0])[0], month_of(months[-1])[1]
    machine = "UseCodes" in options
    delimiter = (";" if "SeparatorSemicolon" in options else "\t" if "SeparatorTab" in options
                 else " " if "SeparatorSpace" in options else "")  # fmt: skip
    params = ReportParams(first, last, {}, table.level, "csv" if fmt == "csv" else fmt, lang,
                          delimiter, style="machine" if machine else "table")  # fmt: skip
    return Result(table.report, params, tuple(columns), rows, bodies.notes(cube, lang),
                  cube.updated)  # fmt: skip


def render(cube: Cube, lang: Lang, fmt: str, options: tuple[str, ...], now: dt.datetime) -> bytes:
    if fmt == "px":
        title = cube.table.label(lang, bodies.level_label(cube.table))
        return px.render(cube, lang, title, bodies.notes(cube, lang), now)
    result = long_result(cube, lang, fmt, options)
    if fmt == "xlsx":
        return formats.to_xlsx(result)
    return formats.to_csv(result)
