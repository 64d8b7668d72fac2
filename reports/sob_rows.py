"""Support and treatment (`stod-och-behandling`): the pure shaping of its
rows, without I/O (reports/sob.py runs the queries and declares the reports).

Counties, genders and age groups under disclosure control, and the
drill-downs (moments-by-hierarchy and moments-by-moment): their levels, their
rows, and the residents lattice their disclosure is decided on.
"""

from __future__ import annotations

from typing import Any

from reports import arith, disclosure
from reports.declarations import ReportParams
from reports.lattice import Cell, Lattice
from schemas.counties import COUNTIES, UNKNOWN_COUNTY, county_name

GENDERS = ("F", "M", "U")
AGE_GROUPS = ("0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+", "okänd")
_AGE_BOUNDS = ((17, "0-17"), (24, "18-24"), (34, "25-34"), (44, "35-44"), (54, "45-54"),
               (64, "55-64"), (74, "65-74"))  # fmt: skip


def age_group(age: int) -> str:
    if age < 0:
        return "okänd"
    return next((label for top, label in _AGE_BOUNDS if age <= top), "75+")


def _withhold(n: int) -> int | None:
    return None if disclosure.masked(n) else n


def county_rows(p: ReportParams, found: list[tuple[Any, ...]]) -> list[list[Any]]:
    got = {c: (int(s), int(d), int(n)) for c, s, d, n in found}
    chosen = p.values("county")
    axis = [c for c in COUNTIES if not chosen or c in chosen]
    if any(got.get(UNKNOWN_COUNTY, (0, 0, 0))):
        axis.append(UNKNOWN_COUNTY)
    return [[c, county_name(c), *got.get(c, (0, 0, 0))] for c in axis]


def gender_cells(counts: dict[str, int]) -> tuple[list[list[Any]], bool, bool]:
    """patients-per-gender rows with disclosure control applied."""
    hidden, extra = disclosure.suppress_group(counts, GENDERS)
    total = sum(counts.values())
    rows = [
        [g, None, None] if g in hidden else [g, counts[g], arith.ratio(counts[g], total)]
        for g in GENDERS
    ]
    return rows, bool(hidden), extra


def gender_age_cells(
    counts: dict[tuple[str, str], int],
) -> tuple[list[list[Any]], bool, bool]:
    """patients-per-gender-age with disclosure control: a gender's age cells add
    up to the gender count patients-per-gender shows, and the cells of the
    genders it withholds add up to the period total minus the shown genders."""
    by_gender = {g: sum(counts.get((g, a), 0) for a in AGE_GROUPS) for g in GENDERS}
    gender_hidden, _ = disclosure.suppress_group(by_gender, GENDERS)
    cells = {(g, a): counts.get((g, a), 0) for g in GENDERS for a in AGE_GROUPS}
    hidden = {k for k, v in cells.items() if disclosure.masked(v)}
    groups = [[(g, a) for a in AGE_GROUPS] for g in GENDERS if g not in gender_hidden]
    if gender_hidden and any(by_gender[g] > 0 for g in GENDERS if g not in gender_hidden):
        groups.append([(g, a) for g in GENDERS if g in gender_hidden for a in AGE_GROUPS])
    extra = False
    for group in groups:
        cell = disclosure.secondary(cells, hidden, group)
        if cell is not None:
            hidden.add(cell)
            extra = True
    rows = [
        [g, a, None if (g, a) in hidden else cells[(g, a)]] for g in GENDERS for a in AGE_GROUPS
    ]
    return rows, bool(hidden), extra


def _sort_key(row: list[Any]) -> tuple[Any, ...]:
    return tuple("" if v is None else v for v in row)


HIERARCHY_LEVELS = ("county", "care_provider", "unit", "moment", "closing_reason")
MOMENT_LEVELS = ("moment", "county", "care_provider", "unit")


def hierarchy_rows(level: str, found: list[tuple[Any, ...]], residents: Lattice) -> list[list[Any]]:
    """Rows of HIERARCHY[level] with each row's residents: its cell of the
    lattice (the same distinct count over the same rows; 0 when the lattice
    has no such cell, which leaves out empty ones)."""
    depth = HIERARCHY_LEVELS.index(level)
    mask = (1 << (depth + 1)) - 1
    pad = (None,) * (len(LINKED_DIMS) - depth - 1)
    find, counts = residents.find, residents.counts
    rows = []
    for rec in found:
        keys, (cpn, un, started, ongoing, completed, practitioners) = (
            rec[: depth + 1],
            rec[depth + 1 :],
        )
        at = find(mask, (*keys, *pad))
        county = keys[0]
        row: list[Any] = [county, county_name(county)]
        if depth >= 1:
            row += [keys[1], cpn]
        if depth >= 2:
            row += [keys[2], un]
        if depth >= 3:
            row += [keys[3]]
        if depth >= 4:
            row += [keys[4]]
        row += [int(started), int(ongoing), int(completed),
                _withhold(0 if at is None else counts[at]), int(practitioners)]  # fmt: skip
        rows.append(row)
    return sorted(rows, key=_sort_key)


LINKED_DIMS = ("county_code", "care_provider_id", "unit_id", "moment", "closing_reason")


def _lattice_slots() -> list[tuple[int, tuple[int, ...]]]:
    """Per grouping() value of a RESIDENTS_LATTICE row: the mask of the
    dimensions it keeps (bit j = LINKED_DIMS[j]) and their slots."""
    width = len(LINKED_DIMS)
    out = []
    for g in range(1 << width):
        slots = tuple(j for j in range(width) if not g >> (width - 1 - j) & 1)
        out.append((sum(1 << j for j in slots), slots))
    return out


_SLOTS = _lattice_slots()


def residents_lattice(found: list[tuple[Any, ...]]) -> Lattice:
    """Rows of RESIDENTS_LATTICE (keys, grouping(), count) as a lattice whose
    cells are keyed like the answers' rows: a key summed away is None."""
    width = len(LINKED_DIMS)
    masks, keys, counts = [], [], []
    for rec in found:
        mask, slots = _SLOTS[int(rec[width])]
        key: list[Any] = [None] * width
        for j in slots:
            key[j] = rec[j]
        masks.append(mask)
        keys.append(tuple(key))
        counts.append(int(rec[width + 1]))
    return Lattice(LINKED_DIMS, masks, keys, counts)


def residents_cells(found: list[tuple[Any, ...]]) -> dict[Cell, int]:
    """Rows of RESIDENTS_LATTICE as cells keyed like the answers' rows."""
    return dict(residents_lattice(found))
