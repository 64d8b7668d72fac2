"""Disclosure control decided over linked tables at once, pure.

For drill-downs, whose levels are separate requests, `linked_suppression`
decides over every level and the totals behind them at once (cells of a
`Lattice`, reports/lattice.py), so whichever level is asked the same cells are
withheld and none follows from the others; `control` and `withhold_rows` apply
the decision to an answer's rows. The rule itself (1–9 withheld) is
reports/disclosure.py's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from reports.disclosure import masked
from reports.lattice import Cell, Lattice, Linked, Suppression


def _order_keys(lat: Lattice) -> list[tuple[Any, ...]]:
    """A total order on cells that does not depend on the order rows arrived in
    (ClickHouse returns groups in any order): fewer dimensions first, then the
    (dimension, value) pairs by dimension name, None before every string. The
    pairs are laid out flat, (n, d1, 0|1, v1, d2, ...): with n equal the
    layouts have the same length, so the order is that of the nested pairs,
    and a flat tuple compares faster."""
    by_name = sorted((d, j) for j, d in enumerate(lat.dims))
    present: dict[int, list[tuple[str, int]]] = {}
    out: list[tuple[Any, ...]] = []
    for m, k in zip(lat.masks, lat.coords, strict=True):
        dims = present.get(m)
        if dims is None:
            dims = present[m] = [(d, j) for d, j in by_name if m >> j & 1]
        key: list[Any] = [len(dims)]
        for d, j in dims:
            v = k[j]
            key += (d, 0, "") if v is None else (d, 1, str(v))
        out.append(tuple(key))
    return out


def equations(lat: Lattice, cells: Sequence[int]) -> list[list[int]]:
    """The additive relations among the lattice's cells in the order `cells`
    (positions in it): for every cell A and every dimension d such that A's
    dimensions plus d form a table, A = Σ of the cells of that table that
    refine A. The parent comes first. Cells absent are zeros everyone knows
    (an answer leaves out all-zero rows), so they take no part."""
    position = {lat.coords[i] + (lat.masks[i],): p for p, i in enumerate(cells)}
    tables = set(lat.masks)
    width = len(lat.dims)
    # per table: (bit, dimension name, slot) of each dimension whose removal is a table
    parents: dict[int, list[tuple[int, str, int]]] = {
        t: [(1 << j, lat.dims[j], j) for j in range(width) if t >> j & 1 and t ^ (1 << j) in tables]
        for t in tables
    }
    groups: dict[tuple[int, str], list[int]] = {}
    for p, i in enumerate(cells):
        m, k = lat.masks[i], lat.coords[i]
        for bit, d, j in parents[m]:
            parent = position.get((*k[:j], None, *k[j + 1 :], m ^ bit))
            if parent is None:
                continue  # no rows under it at all: a zero everyone knows
            groups.setdefault((parent, d), []).append(p)
    # children were appended in position order, so each list is sorted
    return [[q, *children] for (q, _d), children in sorted(groups.items())]


# Decisions already taken, by their whole input in its fixed order (every
# cell's identity, value and whether it is shown): the same figures asked again
# (a popular page, its other levels, the other drill-down of the same family)
# reuse the decision instead of solving the relations again. A pure function's
# memo, so it is exact whichever process holds it; any changed count is
# another key.
_DECIDED: dict[tuple[Any, ...], tuple[frozenset[int], frozenset[int]]] = {}
_DECIDED_MAX = 32
_DECIDED_LOCK = threading.Lock()


def decide(lat: Lattice, shown: Sequence[bool]) -> tuple[set[int], set[int]]:
    """`linked_suppression` on a lattice: `shown[i]` when cell i is published;
    returns the primary and the secondary cells (lattice indices)."""
    order = _order_keys(lat)
    cells = sorted(range(len(lat.coords)), key=order.__getitem__)
    value = tuple([lat.counts[i] for i in cells])
    ok = tuple([bool(shown[i]) for i in cells])
    key = (tuple([order[i] for i in cells]), value, ok)
    with _DECIDED_LOCK:
        found = _DECIDED.get(key)
    if found is None:
        primary, secondary = _decide_sorted(list(value), list(ok), equations(lat, cells))
        found = frozenset(primary), frozenset(secondary)
        with _DECIDED_LOCK:
            _DECIDED[key] = found
            while len(_DECIDED) > _DECIDED_MAX:
                del _DECIDED[next(iter(_DECIDED))]
    return {cells[p] for p in found[0]}, {cells[p] for p in found[1]}


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
    lat = Lattice.of_cells(values)
    shown = [False] * len(lat)
    for cell in published:
        i = lat.index_of(cell)
        if i is not None:
            shown[i] = True
    primary, secondary = decide(lat, shown)
    return Suppression(
        frozenset(lat.cell(i) for i in primary), frozenset(lat.cell(i) for i in secondary)
    )


def _decide_sorted(
    value: list[int], shown_ok: list[bool], eqs: list[list[int]]
) -> tuple[set[int], set[int]]:
    """The decision over cells in their fixed order (positions), with their
    relations: the primary and the secondary positions."""
    n = len(value)
    primary = {i for i in range(n) if shown_ok[i] and masked(value[i])}
    secret = [masked(value[i]) for i in range(n)]  # unpublished 1–9 must stay unknown too
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
    return primary, secondary


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
    """Unknown cells whose value the relations fix, however combined: those x
    with the unit vector e_x in the row space of the relations over the
    unknowns, i.e. the pivot rows of the reduced echelon form that hold
    nothing but their pivot. Sparse elimination over GF(p). Which cells these
    are is a property of the row space, whatever the pivot order, so the
    pivots go finest cell first (highest position): a fine cell is in few
    relations, and eliminating the national total and the counties first
    filled every row with them (issue 17: 9 of the decision's 11 ms)."""
    unknown = [not shown_ok[i] or i in withheld for i in range(n)]
    basis: dict[int, dict[int, int]] = {}
    for eq in eqs:
        row: dict[int, int] = {}
        for k, i in enumerate(eq):
            if unknown[i]:
                row[i] = (row.get(i, 0) + (1 if k == 0 else _PRIME - 1)) % _PRIME
        row = {i: c for i, c in row.items() if c}
        while row:
            pivot = max(row)
            if pivot not in basis:
                inv = pow(row[pivot], _PRIME - 2, _PRIME)
                basis[pivot] = {i: c * inv % _PRIME for i, c in row.items()}
                break
            _subtract(row, basis[pivot], row[pivot])
    for pivot in sorted(basis):  # back-substitution
        row = basis[pivot]
        for j in sorted((j for j in row if j != pivot and j in basis), reverse=True):
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


Keep = Callable[[Sequence[str], list[list[Any]]], list[list[Any]]]


def published_mask(linked: Linked, lat: Lattice, keep: Keep) -> list[bool]:
    """Which cells answers show (by lattice index): every cell of a published
    table that `keep` (the tier's row filter, e.g. organisations that opted
    in) lets through, run on rows of that table's key columns as an answer
    would carry them."""
    by_table: dict[int, list[int]] = {}
    for i, m in enumerate(lat.masks):
        by_table.setdefault(m, []).append(i)
    shown = [False] * len(lat)
    for table in linked.published:
        mask = lat.mask_of(table)
        if mask is None or mask not in by_table or not set(table) <= set(linked.dims):
            continue
        slots = [j for j, d in enumerate(lat.dims) if d in table]
        names = [lat.dims[j] for j in slots]
        cells = by_table[mask]
        rows = [[lat.coords[i][j] for j in slots] for i in cells]
        kept = keep(names, rows)
        if kept is rows:  # nothing left out (the filter of a logged-in answer)
            for i in cells:
                shown[i] = True
            continue
        width = len(lat.dims)
        for row in kept:
            key: list[Any] = [None] * width
            for j, v in zip(slots, row, strict=True):
                key[j] = v
            hit = lat.find(mask, tuple(key))
            if hit is not None:
                shown[hit] = True
    return shown


def published_cells(linked: Linked, keep: Keep) -> set[Cell]:
    """`published_mask` as cells."""
    lat = linked.lattice()
    return {lat.cell(i) for i, s in enumerate(published_mask(linked, lat, keep)) if s}


def control(
    linked: Linked, keep: Keep, names: Sequence[str], rows: list[list[Any]]
) -> tuple[list[list[Any]], bool, bool]:
    """Disclosure control decided over every level and total of the linked
    tables as `keep` shows them, applied to an answer's rows: the rows, and
    whether any null is primary, whether any is secondary."""
    lat = linked.lattice()
    primary, secondary = decide(lat, published_mask(linked, lat, keep))
    return _withhold(linked, lat, primary, secondary, names, rows)


def withhold_rows(
    linked: Linked, decided: Suppression, names: Sequence[str], rows: list[list[Any]]
) -> tuple[list[list[Any]], bool, bool]:
    """The answer's rows with every withheld cell of the measure null; and
    whether any null is primary, whether any is secondary."""
    lat = linked.lattice()

    def indices(cells: frozenset[Cell]) -> set[int]:
        return {i for i in map(lat.index_of, cells) if i is not None}

    return _withhold(linked, lat, indices(decided.primary), indices(decided.secondary), names, rows)


def _withhold(
    linked: Linked, lat: Lattice, primary: set[int], secondary: set[int], names: Sequence[str],
    rows: list[list[Any]],
) -> tuple[list[list[Any]], bool, bool]:  # fmt: skip
    cols = [names.index(d) if d in names and d in linked.dims else -1 for d in lat.dims]
    mask = sum(1 << j for j, c in enumerate(cols) if c >= 0)
    at = names.index(linked.measure)
    any_primary = any_secondary = False
    out = []
    for row in rows:
        i = lat.find(mask, tuple([None if c < 0 else row[c] for c in cols]))
        if i is not None and i in secondary:
            row, any_secondary = [*row[:at], None, *row[at + 1 :]], True
        elif (i is not None and i in primary) or row[at] is None:
            row, any_primary = [*row[:at], None, *row[at + 1 :]], True
        out.append(row)
    return out, any_primary, any_secondary
