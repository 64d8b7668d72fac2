"""An attacker's view of linked tables, written apart from reports/disclosure.py.

Given what answers show (a value, None for withheld, or nothing for a row left
out), it tries to derive hidden cells by subtraction: a total shown with all
but one of its parts shown gives that part (and all parts give the total),
repeated until nothing new follows, across every pair of tables where one is
the other broken down by one more dimension. Used by the unit tests (on exact
sums) and the integration test (on the API's answers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Key = tuple[tuple[str, Any], ...]  # sorted (dimension, value) pairs


def key(pairs: Mapping[str, Any]) -> Key:
    return tuple(sorted(pairs.items(), key=lambda kv: kv[0]))


@dataclass
class Derivation:
    cell: Key
    value: int
    total: Key
    via: list[Key] = field(default_factory=list)


def attack(
    shown: Mapping[Key, int | None],
    hidden_parts: Callable[[Key, str], bool] = lambda total, dim: False,
) -> dict[Key, Derivation]:
    """Every cell of `shown` that is None, or every opaque remainder, that the
    shown numbers determine. `shown` maps each cell the answers contain to its
    value (None = withheld). Cells not in `shown` are zero, unless
    `hidden_parts(total, dim)` says the breakdown of a total along a dimension
    has parts the answers leave out (rows of organisations that did not opt
    in): that remainder is one more unknown in that relation, named by the
    returned key `(("~remainder", str(total)), ("~dim", dim))`. The grand total
    (no dimension) is always there to reason with, shown or not."""
    values, relations = _relations(shown, hidden_parts)
    found: dict[Key, Derivation] = {}
    changed = True
    while changed:
        changed = False
        for (total, _d), parts in relations.items():
            if total not in values:
                continue
            unknown = [c for c in [total, *parts] if values.get(c) is None]
            if len(unknown) != 1:
                continue
            (x,) = unknown
            if x == total:
                v = sum(int(values[c] or 0) for c in parts)
            else:
                v = int(values[total] or 0) - sum(int(values[c] or 0) for c in parts if c != x)
            values[x] = v
            found[x] = Derivation(x, v, total, [c for c in parts if c != x])
            changed = True
    return found


def solve(shown: Mapping[Key, int | None]) -> dict[Key, Fraction]:
    """Every hidden cell the relations fix when solved together (not only one
    at a time): exact Gauss-Jordan elimination over the rationals."""
    values, relations = _relations(shown, lambda total, dim: False)
    unknown = sorted((k for k, v in values.items() if v is None), key=repr)
    col = {k: j for j, k in enumerate(unknown)}
    rows: list[list[Fraction]] = []
    for (total, _d), parts in relations.items():
        if total not in values:
            continue
        row = [Fraction(0)] * (len(unknown) + 1)
        for sign, c in [(1, total), *((-1, p) for p in parts)]:
            if c in col:
                row[col[c]] += sign
            else:
                row[-1] -= sign * int(values[c] or 0)
        rows.append(row)
    pivots: list[int] = []
    r = 0
    for j in range(len(unknown)):
        p = next((i for i in range(r, len(rows)) if rows[i][j] != 0), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        rows[r] = [x / rows[r][j] for x in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][j] != 0:
                f = rows[i][j]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(j)
        r += 1
    free = set(range(len(unknown))) - set(pivots)
    return {
        unknown[j]: rows[k][-1] for k, j in enumerate(pivots) if all(rows[k][f] == 0 for f in free)
    }


def _relations(
    shown: Mapping[Key, int | None], hidden_parts: Callable[[Key, str], bool]
) -> tuple[dict[Key, int | None], dict[tuple[Key, str], list[Key]]]:
    shown = {(): None, **shown}
    tables: dict[frozenset[str], list[Key]] = defaultdict(list)
    for k in shown:
        tables[frozenset(d for d, _ in k)].append(k)
    relations: dict[tuple[Key, str], list[Key]] = defaultdict(list)
    for dims, finer in tables.items():
        for d in dims:
            if dims - {d} not in tables:
                continue
            for k in finer:
                total = tuple(p for p in k if p[0] != d)
                relations[(total, d)].append(k)
    for dims, coarse in tables.items():  # a total whose parts are all zero rows
        for finer_dims in tables:
            if len(finer_dims) == len(dims) + 1 and dims < finer_dims:
                (d,) = finer_dims - dims
                for k in coarse:
                    relations.setdefault((k, d), [])
    values: dict[Key, int | None] = dict(shown)
    for (total, d), parts in relations.items():
        if hidden_parts(total, d):
            r = (("~remainder", str(total)), ("~dim", d))
            values[r] = None
            parts.append(r)
    return values, relations
