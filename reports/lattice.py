"""The cells of linked tables (every level of a drill-down and the totals
behind it), indexed once, pure.

A `Lattice` holds each cell as a key tuple and a bit mask of its dimensions,
so nothing per cell builds sets or sorts pairs (issue 17: a drill-down's
lattice has thousands of cells and is decided on every request, by
reports/linked_disclosure.py). tests/unit/reports/disclosure_reference.py keeps the
cell-by-cell version it replaced; tests/unit/reports/test_lattice_equivalence.py
checks that both decide identically.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
