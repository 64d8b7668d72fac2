"""Disclosure control for counts of residents (patients), pure.

Primary: a count 1–9 is withheld (null); 0 is shown. Secondary: where cells
are additive and their total is known or derivable, a single withheld cell
could be recovered by subtraction, so the smallest shown non-zero cell of the
group is withheld too (ties: the group's order). For drill-downs, whose levels
are separate requests, `linked_suppression` decides over every level and the
totals behind them at once, so whichever level is asked the same cells are
withheld and none follows from the others.

The linked decision works on a `Lattice`: the cells indexed once, each a key
tuple and a bit mask of its dimensions, so nothing per cell builds sets or
sorts pairs (issue 17: a drill-down's lattice has thousands of cells and is
decided on every request). tests/unit/disclosure_reference.py keeps the
cell-by-cell version it replaced; tests/unit/test_lattice_equivalence.py
checks that both decide identically.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
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


class Lattice(Mapping[Cell, int]):
    """Counts of the cells of linked tables, indexed once.

    Cell i has `masks[i]` (bit j set when it has dimension `dims[j]`) and
    `coords[i]` (a value per dimension of `dims`, None where its table sums the
    dimension away; the mask tells such a None from a None value). It reads as
    the Mapping[Cell, int] it stands for; the decision below never builds a
    Cell.
    """

    __slots__ = ("dims", "masks", "coords", "counts", "_index")

    def __init__(
        self, dims: Sequence[str], masks: Sequence[int], keys: Sequence[tuple[Any, ...]],
        counts: Sequence[int],
    ) -> None:  # fmt: skip
        self.dims = tuple(dims)
        index = {(m, k): i for i, (m, k) in enumerate(zip(masks, keys, strict=True))}
        if len(index) == len(keys):
            self.masks, self.coords, self.counts = list(masks), list(keys), list(counts)
        else:  # a cell given twice: the last count stands, as in a dict
            order = sorted(index.values())
            self.masks = [masks[i] for i in order]
            self.coords = [keys[i] for i in order]
            self.counts = [counts[i] for i in order]
            index = {
                (m, k): i for i, (m, k) in enumerate(zip(self.masks, self.coords, strict=True))
            }
        self._index = index

    @classmethod
    def of_cells(cls, values: Mapping[Cell, int], dims: Sequence[str] = ()) -> Lattice:
        """The lattice of cells given as sets of (dimension, value) pairs;
        `dims` first, then any other dimension the cells name, by name."""
        if isinstance(values, Lattice):
            return values
        extra = sorted({d for c in values for d, _ in c} - set(dims))
        order = (*dims, *extra)
        at = {d: j for j, d in enumerate(order)}
        masks, keys, counts = [], [], []
        for cell, n in values.items():
            key: list[Any] = [None] * len(order)
            mask = 0
            for d, v in cell:
                key[at[d]] = v
                mask |= 1 << at[d]
            masks.append(mask)
            keys.append(tuple(key))
            counts.append(n)
        return cls(order, masks, keys, counts)

    def find(self, mask: int, key: tuple[Any, ...]) -> int | None:
        return self._index.get((mask, key))

    def index_of(self, cell: Cell) -> int | None:
        key: list[Any] = [None] * len(self.dims)
        mask = 0
        for d, v in cell:
            if d not in self.dims:
                return None
            j = self.dims.index(d)
            key[j] = v
            mask |= 1 << j
        return self.find(mask, tuple(key))

    def cell(self, i: int) -> Cell:
        m, k = self.masks[i], self.coords[i]
        return frozenset((d, k[j]) for j, d in enumerate(self.dims) if m >> j & 1)

    def mask_of(self, dims: Iterable[str]) -> int | None:
        """The mask of a set of dimensions, or None when one is not in the lattice."""
        mask = 0
        for d in dims:
            if d not in self.dims:
                return None
            mask |= 1 << self.dims.index(d)
        return mask

    def __getitem__(self, cell: Cell) -> int:
        i = self.index_of(cell)
        if i is None:
            raise KeyError(cell)
        return self.counts[i]

    def __iter__(self) -> Iterator[Cell]:
        return (self.cell(i) for i in range(len(self.coords)))

    def __len__(self) -> int:
        return len(self.coords)


@dataclass(frozen=True)
class Linked:
    """Counts of one measure for every table a family of reports can show.

    `values` holds every non-empty cell of every table (each a GROUP BY over the
    same rows with a different set of dimensions), including tables that are
    never shown but that an attacker can still reason about (the national
    total); `published` names the dimension sets that answers show. Reports
    give `values` as a Lattice; any Mapping[Cell, int] will do.
    """

    measure: str
    dims: tuple[str, ...]
    values: Mapping[Cell, int]
    published: frozenset[frozenset[str]]

    def lattice(self) -> Lattice:
        return Lattice.of_cells(self.values, self.dims)


@dataclass(frozen=True)
class Suppression:
    primary: frozenset[Cell]
    secondary: frozenset[Cell]

    @property
    def withheld(self) -> frozenset[Cell]:
        return self.primary | self.secondary


def cell_of(pairs: Iterable[tuple[str, Hashable]]) -> Cell:
    return frozenset(pairs)


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


def decide(lat: Lattice, shown: Sequence[bool]) -> tuple[set[int], set[int]]:
    """`linked_suppression` on a lattice: `shown[i]` when cell i is published;
    returns the primary and the secondary cells (lattice indices)."""
    order = _order_keys(lat)
    cells = sorted(range(len(lat.coords)), key=order.__getitem__)
    primary, secondary = _decide_sorted(
        [lat.counts[i] for i in cells], [bool(shown[i]) for i in cells], equations(lat, cells)
    )
    return {cells[p] for p in primary}, {cells[p] for p in secondary}


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
