"""The cell-by-cell implementation of reports/disclosure.py as it was before it
worked on indexed lattices (issue 17), kept verbatim as the reference the
property test compares the new one with: the decisions must be identical.

Disclosure control for counts of residents (patients), pure.

Primary: a count 1–9 is withheld (null); 0 is shown. Secondary: where cells
are additive and their total is known or derivable, a single withheld cell
could be recovered by subtraction, so the smallest shown non-zero cell of the
group is withheld too (ties: the group's order). For drill-downs, whose levels
are separate requests, `linked_suppression` decides over every level and the
totals behind them at once, so whichever level is asked the same cells are
withheld and none follows from the others.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)

NOTE_PRIMARY = (
    # A note people read in every format: JSON's null is "–" on the page and
    # an empty cell in CSV, so the note names neither.
    "Antal invånare eller patienter mellan 1 och 9 redovisas inte, för att skydda "
    "enskildas integritet."
)
NOTE_SECONDARY = (
    "Ytterligare en cell har undertryckts så att en undertryckt cell inte kan räknas "
    "fram ur summan."
)


def masked(n: int) -> bool:
    return 1 <= n <= 9


def secondary(values: Mapping[K, int], withheld: set[K], group: Sequence[K]) -> K | None:
    """The extra cell to withhold in a group with a known total, or None.

    Only when exactly one cell of the group is withheld; if every shown cell
    is 0 the total equals the withheld cell and is itself unknown.
    """
    if sum(1 for k in group if k in withheld) != 1:
        return None
    candidates = [k for k in group if k not in withheld and values[k] > 0]
    if not candidates:
        return None
    return min(candidates, key=lambda k: (values[k], group.index(k)))


def suppress_group(values: Mapping[K, int], group: Sequence[K]) -> tuple[set[K], bool]:
    """Primary plus secondary suppression of one additive group.

    Returns the withheld keys and whether a secondary cell was needed.
    """
    hidden = {k for k in group if masked(values[k])}
    extra = secondary(values, hidden, group)
    return (hidden | {extra}, True) if extra is not None else (hidden, False)


# --- linked tables: every level of a drill-down and the totals behind it -------

NOTE_LINKED = (
    "Ytterligare celler har undertryckts (sekundär röjandekontroll) eftersom de annars, "
    "tillsammans med andra nivåer eller summor av samma statistik, skulle låta en "
    "undertryckt cell räknas fram."
)

# A cell of a linked set of tables: its key as (dimension, value) pairs. The
# cell of a coarser table has a subset of the dimensions of a finer one.
Cell = frozenset[tuple[str, Hashable]]


@dataclass(frozen=True)
class Linked:
    """Counts of one measure for every table a family of reports can show.

    `values` holds every non-empty cell of every table (each a GROUP BY over the
    same rows with a different set of dimensions), including tables that are
    never shown but that an attacker can still reason about (the national
    total); `published` names the dimension sets that answers show.
    """

    measure: str
    dims: tuple[str, ...]
    values: Mapping[Cell, int]
    published: frozenset[frozenset[str]]


@dataclass(frozen=True)
class Suppression:
    primary: frozenset[Cell]
    secondary: frozenset[Cell]

    @property
    def withheld(self) -> frozenset[Cell]:
        return self.primary | self.secondary


def cell_of(pairs: Iterable[tuple[str, Hashable]]) -> Cell:
    return frozenset(pairs)


def _order(cell: Cell) -> tuple[int, tuple[tuple[str, int, str], ...]]:
    # A total order on cells that does not depend on the order rows arrived in
    # (ClickHouse returns groups in any order): None sorts before every string.
    return len(cell), tuple(sorted([(d, 0, "") if v is None else (d, 1, str(v)) for d, v in cell]))


def equations(cells: Sequence[Cell]) -> list[list[int]]:
    """The additive relations among `cells` (indices): for every cell A and every
    dimension d such that A's dimensions plus d form a table, A = Σ of the cells
    of that table that refine A. The parent comes first. Cells absent from
    `cells` are zeros everyone knows (an answer leaves out all-zero rows), so
    they take no part."""
    index = {c: i for i, c in enumerate(cells)}
    dims_of = [frozenset(d for d, _ in c) for c in cells]
    tables = set(dims_of)
    has_coarser = {(t, d): t - {d} in tables for t in tables for d in t}
    groups: dict[tuple[int, str], list[int]] = {}
    for i, c in enumerate(cells):
        for d, v in c:
            if not has_coarser[(dims_of[i], d)]:
                continue
            parent = index.get(c - {(d, v)})
            if parent is None:
                continue  # no rows under it at all: a zero everyone knows
            groups.setdefault((parent, d), []).append(i)
    return [[p, *sorted(children)] for (p, _d), children in sorted(groups.items())]


def linked_suppression(values: Mapping[Cell, int], published: AbstractSet[Cell]) -> Suppression:
    """Which published cells to withhold so that no withheld cell, and no
    unpublished cell holding 1–9, can be derived from what is shown.

    Cells are treated as additive (a parent is the sum of the cells refining it
    along one dimension), which is conservative for distinct counts: there the
    subtraction gives a bound, and often the value. A cell an attacker knows is
    a shown cell, or one alone unknown in some relation whose other cells are
    known (derived, transitively). Primary: published cells holding 1–9.
    Secondary, until nothing protected can be derived: for the first protected
    cell derived (in a fixed order), the smallest non-zero shown cell of the
    relation that derived it is withheld too; if that relation holds no such
    shown cell, the derivation of the unpublished cell it used is blocked
    instead. Last, the relations are solved together (exact elimination): a
    protected cell they fix, though no single relation does, gets one of its
    relations widened by one more withheld cell. Pure and deterministic: the answer depends only on the values,
    never on the order they came in.
    """
    cells = sorted(values, key=_order)
    n = len(cells)
    value = [values[c] for c in cells]
    shown_ok = [c in published for c in cells]
    primary = {i for i in range(n) if shown_ok[i] and masked(value[i])}
    secret = [masked(value[i]) for i in range(n)]  # unpublished 1–9 must stay unknown too
    eqs = equations(cells)
    member_of: list[list[int]] = [[] for _ in range(n)]
    for e, eq in enumerate(eqs):
        for i in eq:
            member_of[i].append(e)

    withheld = set(primary)
    secondary: set[int] = set()
    protected = [shown_ok[i] or secret[i] for i in range(n)]  # when unknown
    while True:
        # The common case, cheaply: a relation whose only unknown is protected.
        secondary |= _local(eqs, member_of, shown_ok, protected, withheld, value)
        # Then chains through derivable unpublished cells, by the full closure.
        derived_by = _closure(n, eqs, member_of, shown_ok, withheld)
        leak = next(
            (x for x in derived_by if x in withheld or (not shown_ok[x] and secret[x])), None
        )
        if leak is not None:
            pick = _blocker(leak, eqs, derived_by, shown_ok, withheld, value)
            withheld.add(pick)
            secondary.add(pick)
            continue
        # Last, what only solving the relations together gives (a cell on no
        # cycle of unknowns, as in a two-way table): widen one of its relations.
        fixed = [x for x in _determined(n, eqs, shown_ok, withheld) if protected[x]]
        if not fixed:
            break
        touched: set[int] = set()
        for x in fixed:
            if touched & set(member_of[x]):
                continue  # an earlier widening this round may already free it
            pick, e = _widen(x, eqs, member_of, shown_ok, withheld, value)
            withheld.add(pick)
            secondary.add(pick)
            touched |= set(member_of[pick]) | {e}
    return Suppression(frozenset(cells[i] for i in primary), frozenset(cells[i] for i in secondary))


def _local(
    eqs: list[list[int]], member_of: list[list[int]], shown_ok: list[bool],
    protected: list[bool], withheld: set[int], value: list[int],
) -> set[int]:  # fmt: skip
    """Withhold, relation by relation, the smallest non-zero shown cell where a
    protected cell is the only unknown; returns the cells added (also put in
    `withheld`). Each addition can only make more relations need one, which
    the worklist follows; it never undoes one."""

    def unknown(i: int) -> bool:
        return not shown_ok[i] or i in withheld

    count = [sum(1 for i in eq if unknown(i)) for eq in eqs]
    queue = [e for e, c in enumerate(count) if c == 1]
    added: set[int] = set()
    head = 0
    while head < len(queue):
        e = queue[head]
        head += 1
        if count[e] != 1:
            continue
        x = next(i for i in eqs[e] if unknown(i))
        if not protected[x]:
            continue  # derivable but harmless; _closure follows what it opens up
        shown = [i for i in eqs[e] if i != x]
        nonzero = [i for i in shown if value[i] > 0]
        pick = min(nonzero, key=lambda i: (value[i], i)) if nonzero else min(shown)
        withheld.add(pick)
        added.add(pick)
        for f in member_of[pick]:
            count[f] += 1
            if count[f] == 1:
                queue.append(f)
    return added


_PRIME = (1 << 61) - 1  # ranks of 0/±1 relations over this field are those over Q


def _determined(
    n: int, eqs: list[list[int]], shown_ok: list[bool], withheld: set[int]
) -> list[int]:
    """Unknown cells whose value the relations fix, however combined: the
    pivot rows of the reduced echelon form that hold nothing but their pivot.
    Sparse elimination over GF(p), pivots in cell order, so deterministic."""
    unknown = [not shown_ok[i] or i in withheld for i in range(n)]
    basis: dict[int, dict[int, int]] = {}
    for eq in eqs:
        row: dict[int, int] = {}
        for k, i in enumerate(eq):
            if unknown[i]:
                row[i] = (row.get(i, 0) + (1 if k == 0 else _PRIME - 1)) % _PRIME
        row = {i: c for i, c in row.items() if c}
        while row:
            pivot = min(row)
            if pivot not in basis:
                inv = pow(row[pivot], _PRIME - 2, _PRIME)
                basis[pivot] = {i: c * inv % _PRIME for i, c in row.items()}
                break
            _subtract(row, basis[pivot], row[pivot])
    for pivot in sorted(basis, reverse=True):  # back-substitution
        row = basis[pivot]
        for j in sorted(j for j in row if j != pivot and j in basis):
            if j in row:
                _subtract(row, basis[j], row[j])
    return sorted(p for p, row in basis.items() if len(row) == 1)


def _subtract(row: dict[int, int], other: dict[int, int], factor: int) -> None:
    for i, c in other.items():
        v = (row.get(i, 0) - factor * c) % _PRIME
        if v:
            row[i] = v
        else:
            row.pop(i, None)


def _widen(
    x: int, eqs: list[list[int]], member_of: list[list[int]], shown_ok: list[bool],
    withheld: set[int], value: list[int],
) -> tuple[int, int]:  # fmt: skip
    """A shown cell to withhold in one of x's relations (the one with fewest
    unknowns, then the smallest non-zero cell), and that relation."""

    def shown_in(e: int) -> list[int]:
        return [i for i in eqs[e] if shown_ok[i] and i not in withheld]

    # The nearest relations (through unknown cells) that show anything.
    seen_eqs: set[int] = set()
    seen_cells = {x}
    layer = list(member_of[x])
    while layer:
        layer = sorted(set(layer) - seen_eqs)
        seen_eqs |= set(layer)
        options = [e for e in layer if shown_in(e)]
        if options:
            break
        nxt = [i for e in layer for i in eqs[e] if i not in seen_cells]
        seen_cells |= set(nxt)
        layer = [f for i in nxt for f in member_of[i]]
    else:
        raise AssertionError("a determined cell is connected to shown cells")
    e = min(options, key=lambda e: (len(eqs[e]) - len(shown_in(e)), e))
    cands = shown_in(e)
    nonzero = [i for i in cands if value[i] > 0]
    return (min(nonzero, key=lambda i: (value[i], i)) if nonzero else min(cands)), e


def _closure(
    n: int, eqs: list[list[int]], member_of: list[list[int]], shown_ok: list[bool],
    withheld: set[int],
) -> dict[int, int]:  # fmt: skip
    """Every cell an attacker can derive, in derivation order, with the relation
    that gave it: repeatedly, a relation with exactly one unknown cell."""
    known = [shown_ok[i] and i not in withheld for i in range(n)]
    unknown = [sum(1 for i in eq if not known[i]) for eq in eqs]
    queue = [e for e, u in enumerate(unknown) if u == 1]
    derived_by: dict[int, int] = {}
    head = 0
    while head < len(queue):
        e = queue[head]
        head += 1
        if unknown[e] != 1:
            continue
        x = next(i for i in eqs[e] if not known[i])
        known[x] = True
        derived_by[x] = e
        for f in member_of[x]:
            unknown[f] -= 1
            if unknown[f] == 1:
                queue.append(f)
    return derived_by


def _blocker(
    x: int, eqs: list[list[int]], derived_by: dict[int, int], shown_ok: list[bool],
    withheld: set[int], value: list[int],
) -> int:  # fmt: skip
    """A shown cell whose withholding stops the derivation of `x`."""
    others = [i for i in eqs[derived_by[x]] if i != x]
    shown = [i for i in others if shown_ok[i] and i not in withheld]
    if any(value[i] > 0 for i in shown):
        return min((i for i in shown if value[i] > 0), key=lambda i: (value[i], i))
    # Every non-zero cell of the relation was itself derived: block that.
    derived = [i for i in others if i in derived_by and value[i] > 0]
    if derived:
        return _blocker(min(derived, key=lambda i: (value[i], i)), eqs, derived_by,
                        shown_ok, withheld, value)  # fmt: skip
    # Inconsistent input (a non-zero cell whose relation is all zeros): hiding
    # a shown zero still breaks the derivation.
    if shown:
        return min(shown)
    return _blocker(min(i for i in others if i in derived_by), eqs, derived_by, shown_ok,
                    withheld, value)  # fmt: skip


def published_cells(
    linked: Linked, keep: Callable[[Sequence[str], list[list[Any]]], list[list[Any]]]
) -> set[Cell]:
    """The cells answers show: every cell of a published table that `keep` (the
    tier's row filter, e.g. organisations that opted in) lets through, run on
    rows of that table's key columns as an answer would carry them."""
    by_table: dict[frozenset[str], list[Cell]] = {}
    for cell in linked.values:
        by_table.setdefault(frozenset(d for d, _ in cell), []).append(cell)
    out: set[Cell] = set()
    for table, cells in by_table.items():
        if table not in linked.published:
            continue
        names = [d for d in linked.dims if d in table]
        rows = [[dict(c)[d] for d in names] for c in cells]
        out |= {cell_of(zip(names, row, strict=True)) for row in keep(names, rows)}
    return out


def withhold_rows(
    linked: Linked, decided: Suppression, names: Sequence[str], rows: list[list[Any]]
) -> tuple[list[list[Any]], bool, bool]:
    """The answer's rows with every withheld cell of the measure null; and
    whether any null is primary, whether any is secondary."""
    keys = [(d, names.index(d)) for d in linked.dims if d in names]
    at = names.index(linked.measure)
    primary = secondary = False
    out = []
    for row in rows:
        cell = cell_of((d, row[i]) for d, i in keys)
        if cell in decided.secondary:
            row, secondary = [*row[:at], None, *row[at + 1 :]], True
        elif cell in decided.primary or row[at] is None:
            row, primary = [*row[:at], None, *row[at + 1 :]], True
        out.append(row)
    return out, primary, secondary
