"""A table's categories and the cube of one answer; pure (no I/O).

The categories of a dimension are the fixed ones its declaration knows (the
counties with their SCB codes, a filter's choices, the codes the service
labels) followed by every other value the report's open answer over all its
months holds (care providers, units, moments...), in the order of the
answer. Their labels are what the pages show (reports/presentation.py).

A cube is dense over the selection, in the order `Table.dimension_ids`
(last varies fastest): a withheld cell (disclosure control, None in the
report's rows) is null with status `..`; a cell the answer has no row for is
0 for a measure that adds up (the reports leave out rows of zeros) and null
with status `.` (no value) for any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reports import presentation as pres
from reports.declarations import Column
from reports.labels import Label, Labels, Lang
from reports.pxweb.tables import (
    CONTENTS,
    MONTH_COLUMN,
    NONE_CODE,
    TIME,
    Table,
    month_code,
)
from schemas.counties import COUNTIES, UNKNOWN_COUNTY

WITHHELD = ".."  # PxWeb's (and SCB's) sign for a value not published
NO_VALUE = "."

# What a measure counts, for a cube's `unit` (JSON-stat) and the PX file.
_COUNT = (Label("antal", "number"), 0)
_SHARE = (Label("andel", "share"), 4)
_HOURS = (Label("timmar", "hours"), 2)
_FLAG = (Label("ja = 1, nej = 0", "yes = 1, no = 0"), 0)
_VALUE = (Label("värde", "value"), 2)


def unit_of(col: Column) -> tuple[Label, int]:
    """The unit and the decimals of a measure column."""
    if col.type == "boolean":
        return _FLAG
    if col.type == "integer":
        return _COUNT
    if pres.is_share(col.name):
        return _SHARE
    return _HOURS if col.name.startswith("hours") else _VALUE


@dataclass(frozen=True)
class Rows:
    """One answer of the engine for a table: its columns and rows, and the
    month code it answers when the report has no month column."""

    columns: tuple[Column, ...]
    rows: list[list[Any]]
    month: str | None = None


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str
    codes: list[str]
    labels: dict[str, str]


@dataclass
class Cube:
    table: Table
    dimensions: list[Dimension]  # in Table.dimension_ids order, narrowed to the selection
    values: list[Any]
    status: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    updated: dt.datetime | None = None

    def flat(self) -> list[tuple[list[str], list[Any]]]:
        """(codes of every dimension but contents, the measures' values) per
        combination, in cube order with the month last: a long table."""
        contents = next(i for i, d in enumerate(self.dimensions) if d.id == CONTENTS)
        others = [d for d in self.dimensions if d.id != CONTENTS]
        width = len(self.dimensions[contents].codes)
        sizes = [len(d.codes) for d in self.dimensions]
        out: list[tuple[list[str], list[Any]]] = []
        for outer in _product([len(d.codes) for d in others]):
            idx = list(outer)
            idx.insert(contents, 0)
            values = []
            for j in range(width):
                idx[contents] = j
                values.append(self.values[_position(idx, sizes)])
            out.append(([d.codes[i] for d, i in zip(others, outer, strict=True)], values))
        return out


def _product(sizes: Sequence[int]) -> Iterable[tuple[int, ...]]:
    if not sizes:
        yield ()
        return
    for i in range(sizes[0]):
        for rest in _product(sizes[1:]):
            yield (i, *rest)


def _position(idx: Sequence[int], sizes: Sequence[int]) -> int:
    pos = 0
    for i, n in zip(idx, sizes, strict=True):
        pos = pos * n + i
    return pos


def code_of(value: Any) -> str:
    """A dimension value as a category code."""
    if value is None:
        return NONE_CODE
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fixed_codes(table: Table, col: Column, labels: Labels) -> list[str]:
    """The categories a dimension has whatever the data: the counties (SCB
    codes, 00 = unknown county), a filter's choices, the codes the service
    labels."""
    if col.level == "county":
        return [*COUNTIES, UNKNOWN_COUNTY]
    name = table.filter_of(col)
    if name is not None and name in table.report.choices:
        return list(table.report.choices[name])
    return list(labels.values.get(col.name, {}))


def _label(col: Column, code: str, original: Any, name: Any, labels: Labels, lang: Lang) -> str:
    if name is not None and name != "":
        return str(name)
    value = original if code != NONE_CODE else None
    return pres.cell_text(col, value, labels, lang, set())


def categories(
    table: Table, answers: Sequence[Rows], time_codes: Sequence[str], lang: Lang
) -> list[Dimension]:
    """Every dimension of the table with all its categories and labels."""
    labels = pres.service_labels(table.report.service)
    out: list[Dimension] = []
    for col in table.dims:
        codes: dict[str, tuple[Any, Any]] = {c: (c, None) for c in fixed_codes(table, col, labels)}
        for answer in answers:
            names = [c.name for c in answer.columns]
            if col.name not in names:
                continue
            at = names.index(col.name)
            named = next((c.name for c in answer.columns if c.label_of == col.name), None)
            by = names.index(named) if named else None
            for row in answer.rows:
                code = code_of(row[at])
                seen = codes.get(code)
                if seen is None or (seen[1] is None and by is not None and row[by]):
                    codes[code] = (row[at], row[by] if by is not None else None)
        out.append(Dimension(
            col.name, col.label(lang), list(codes),
            {c: _label(col, c, v, n, labels, lang) for c, (v, n) in codes.items()},
        ))  # fmt: skip
    out.append(Dimension(
        CONTENTS, CONTENTS_TEXT.text(lang), [c.name for c in table.contents],
        {c.name: c.label(lang) for c in table.contents},
    ))  # fmt: skip
    out.append(Dimension(TIME, TIME_TEXT.text(lang), list(time_codes),
                         {c: c for c in time_codes}))  # fmt: skip
    return out


CONTENTS_TEXT = Label("tabellinnehåll", "table contents")
TIME_TEXT = Label("månad", "month")


def narrowed(dims: Sequence[Dimension], chosen: dict[str, list[str]]) -> list[Dimension]:
    return [
        Dimension(d.id, d.label, chosen[d.id], {c: d.labels[c] for c in chosen[d.id]}) for d in dims
    ]


def fill(table: Table, dims: list[Dimension], answers: Sequence[Rows]) -> Cube:
    """The cube of the selected categories (`dims`, narrowed) from the engine's
    answers: each row lands on its cell, the rest stay absent."""
    sizes = [len(d.codes) for d in dims]
    total = 1
    for n in sizes:
        total *= n
    index = [{c: i for i, c in enumerate(d.codes)} for d in dims]
    contents_at = [d.id for d in dims].index(CONTENTS)
    wanted = dims[contents_at].codes
    values: list[Any] = [None] * total
    status: dict[int, str] = {}
    additive = {c.name for c in table.contents if c.is_additive}
    filled = [False] * total
    for answer in answers:
        names = [c.name for c in answer.columns]
        at = {n: i for i, n in enumerate(names)}
        keys = [at.get(d.id) for d in dims]
        month_at = at.get(MONTH_COLUMN)
        for row in answer.rows:
            idx: list[int] = []
            for d, key, pos in zip(dims, keys, index, strict=True):
                if d.id == CONTENTS:
                    idx.append(0)
                    continue
                if d.id == TIME:
                    code = month_code(row[month_at]) if month_at is not None else answer.month
                else:
                    code = code_of(row[key]) if key is not None else None
                i = pos.get(code) if code is not None else None
                if i is None:
                    break
                idx.append(i)
            else:
                for j, name in enumerate(wanted):
                    idx[contents_at] = j
                    p = _position(idx, sizes)
                    v = row[at[name]]
                    v = int(v) if isinstance(v, bool) else v
                    if filled[p]:
                        # Two rows on one cell (a unit the catalogue does not know,
                        # seen in two counties): a count adds up, anything else
                        # has no one value.
                        v = _merged(values[p], v, name in additive)
                    values[p] = v
                    filled[p] = True
                    if v is None:
                        status[p] = status.get(p, WITHHELD)
    for p in range(total):
        if not filled[p]:
            j = _unravel(p, sizes)[contents_at]
            if wanted[j] in additive:
                values[p] = 0
            else:
                status[p] = NO_VALUE
    return Cube(table, dims, values, status)


def _merged(old: Any, new: Any, additive: bool) -> Any:
    if old is None or new is None:
        return None  # withheld stays withheld
    return old + new if additive else None


def _unravel(pos: int, sizes: Sequence[int]) -> list[int]:
    out = []
    for n in reversed(sizes):
        out.append(pos % n)
        pos //= n
    return out[::-1]
