"""The indexed disclosure lattice decides exactly as the cell-by-cell version.

`tests/unit/reports/disclosure_reference.py` is reports/disclosure.py as it was before
issue 17 made it work on indexed lattices. On many random families of linked
tables (drill-down hierarchies, two-way tables with margins, opt-in filters
that leave organisations out), the new code must withhold the very same cells,
primary and secondary, and the same answer rows, as the reference.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from reports import lattice as new_lattice
from reports import linked_disclosure as new
from reports.sob_rows import LINKED_DIMS, residents_cells, residents_lattice
from tests.unit.reports import disclosure_reference as old
from tests.unit.reports.test_linked_disclosure import FAMILY, C, M, P, R, U, tables, world


def two_way(rng: random.Random) -> tuple[dict[new_lattice.Cell, int], list[tuple[str, ...]]]:
    family = [(), (C,), (M,), (C, M)]
    facts = {(f"0{c}", "p", "u", m, None): rng.choice([0, 1, 4, 9, 10, 12, 30])
             for c in range(rng.randint(1, 5)) for m in "ABCDE"[: rng.randint(1, 5)]}  # fmt: skip
    return tables({k: v for k, v in facts.items() if v}, family), family


def opt_in(rng: random.Random, values: dict[new_lattice.Cell, int]) -> set[str] | None:
    providers = sorted({str(v) for c in values for d, v in c if d == P})
    if rng.random() < 0.4:
        return None
    return set(rng.sample(providers, rng.randint(0, len(providers))))


def keep_for(opted: set[str] | None) -> new.Keep:
    def keep(names: Sequence[str], rows: list[list[Any]]) -> list[list[Any]]:
        if opted is None or P not in names:
            return rows
        i = list(names).index(P)
        return [r for r in rows if r[i] in opted]

    return keep


def cases(
    n: int,
) -> list[tuple[dict[new_lattice.Cell, int], list[tuple[str, ...]], set[str] | None]]:
    out = []
    for seed in range(n):
        rng = random.Random(77_000 + seed)
        if seed % 4 == 3:
            values, family = two_way(rng)
        else:
            values, family = tables(world(rng, most=2 + seed % 3), FAMILY), FAMILY
        out.append((values, family, opt_in(rng, values)))
    return out


def published_of(
    values: dict[new_lattice.Cell, int], family: list[tuple[str, ...]], opted: set[str] | None
) -> set[new_lattice.Cell]:
    """The cells an answer shows: those of a published table, of providers
    that opted in."""
    published_dims = {frozenset(t) for t in family if t}
    return {
        c
        for c in values
        if frozenset(dict(c)) in published_dims
        and (opted is None or P not in dict(c) or dict(c)[P] in opted)
    }


def test_linked_suppression_is_identical_to_the_reference() -> None:
    for values, family, opted in cases(300):
        published = published_of(values, family, opted)
        want = old.linked_suppression(values, published)
        got = new.linked_suppression(values, published)
        assert got.primary == want.primary
        assert got.secondary == want.secondary


def test_answers_through_control_are_identical_to_the_reference() -> None:
    """What the engine does: the tier's published cells, the decision, the
    rows of every level with nulls and which notes they need."""
    for values, family, opted in cases(150):
        dims = tuple(d for d in LINKED_DIMS if any(d in t for t in family))
        published = frozenset(frozenset(t) for t in family if t)
        keep = keep_for(opted)
        ref = old.Linked("residents", dims, values, published)
        decided = old.linked_suppression(values, old.published_cells(ref, keep))
        lattice = new_lattice.Lattice.of_cells(values, dims)
        linked = new_lattice.Linked("residents", dims, lattice, published)
        assert new.published_cells(linked, keep) == old.published_cells(ref, keep)
        for table in family:
            names = [*[d for d in dims if d in table], "started", "residents"]
            rows = [
                [*[dict(c)[d] for d in dims if d in table], 7, n]
                for c, n in values.items()
                if frozenset(dict(c)) == frozenset(table)
            ]
            rows = keep(names, rows) + [[*rows[0][:-1], None]] if rows else []
            want = old.withhold_rows(ref, decided, names, rows)
            assert new.control(linked, keep, names, rows) == want
            assert (
                new.withhold_rows(linked, new_lattice.Suppression(*astuple(decided)), names, rows)
                == want
            )


def astuple(s: old.Suppression) -> tuple[frozenset[new_lattice.Cell], frozenset[new_lattice.Cell]]:
    return s.primary, s.secondary


def test_lattice_rows_read_as_the_reference_cells() -> None:
    """RESIDENTS_LATTICE rows (keys, grouping(), count): the lattice reads as
    the cells the reference built from them."""
    rng = random.Random(5)
    found: list[tuple[Any, ...]] = []
    for _ in range(500):
        g = rng.randrange(32)
        keys = [rng.choice(["", "01", "cp1", "u", "A", None]) for _ in range(5)]
        found.append((*keys, g, rng.randint(1, 40)))
    lattice = residents_lattice(found)
    cells = residents_cells(found)
    width = len(LINKED_DIMS)
    want: dict[new_lattice.Cell, int] = {}
    for rec in found:
        g = int(rec[width])
        want[
            frozenset(
                (d, v)
                for i, (d, v) in enumerate(zip(LINKED_DIMS, rec[:width], strict=True))
                if not g >> (width - 1 - i) & 1
            )
        ] = int(rec[width + 1])
    assert cells == want
    assert dict(lattice) == want and len(lattice) == len(want)
    assert all(lattice[c] == n for c, n in want.items())


def test_the_order_of_cells_is_the_reference_order() -> None:
    for values, _family, _opted in cases(60):
        lattice = new_lattice.Lattice.of_cells(values, (U, R, C, M, P))  # any slot order
        keys = new._order_keys(lattice)
        by_new = [lattice.cell(i) for i in sorted(range(len(lattice)), key=keys.__getitem__)]
        assert by_new == sorted(values, key=old._order)


def test_hierarchy_rows_take_residents_from_their_lattice_cell() -> None:
    """A row's residents are its cell of the lattice disclosure is decided on
    (0 when the lattice has none: no resident started a moment there), 1–9
    withheld."""
    from reports.sob_rows import hierarchy_rows

    lattice = residents_lattice(
        [
            ("14", "cpA", "", "", None, 0b00111, 24),
            ("14", "cpA", "uA", "X", None, 0b00000, 5),
            ("14", "cpA", "uA", "X", "Klar", 0b00000, 12),
        ]
    )
    found = [  # keys, provider and unit names, started, ongoing, completed, practitioners
        ("14", "cpA", "uA", "X", None, "Vårdgivare A", "Enhet A", 7, 3, 0, 2),
        ("14", "cpA", "uA", "X", "Klar", "Vårdgivare A", "Enhet A", 12, 0, 12, 4),
        ("14", "cpA", "uA", "X", "Annan", "Vårdgivare A", "Enhet A", 0, 0, 2, 1),
    ]
    rows = hierarchy_rows("closing_reason", found, lattice)
    assert [r[-2] for r in rows] == [None, 0, 12]  # sorted: None reason first, then by name
    (county,) = hierarchy_rows("care_provider", [("14", "cpA", "Vårdgivare A", "", 30, 3, 14, 5)],
                               lattice)  # fmt: skip
    assert county[:4] == ["14", county[1], "cpA", "Vårdgivare A"] and county[-2] == 24


def test_a_decision_asked_again_is_the_same_and_a_changed_count_is_decided_anew() -> None:
    """decide's memo: every case twice (the second from the memo), in another
    order of cells, and with one count changed, always equal to the reference."""
    for values, family, opted in cases(120):
        published = published_of(values, family, opted)
        changed = dict(values)
        first = next(iter(changed))
        changed[first] = changed[first] % 9 + 1 if changed[first] > 9 else changed[first] + 10
        shuffled = dict(reversed(list(values.items())))
        for v in (values, values, shuffled, changed, values):
            want = old.linked_suppression(v, published)
            got = new.linked_suppression(v, published)
            assert (got.primary, got.secondary) == (want.primary, want.secondary)
