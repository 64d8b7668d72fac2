"""Complementary suppression across the levels of a drill-down and its totals.

`reports.disclosure.linked_suppression` decides; `tests/unit/reports/disclosure_checker`
(written apart from it) attacks the result by subtraction. On random
hierarchies of many small, exactly additive cells, no withheld cell and no
left-out cell holding 1–9 can be derived; the decision does not depend on the
order the cells came in, nor on which level is asked.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from typing import Any

from reports.disclosure import masked
from reports.lattice import Cell
from reports.linked_disclosure import linked_suppression
from tests.unit.reports.disclosure_checker import Derivation, Key, attack, key, solve

# moments-by-hierarchy and moments-by-moment: one family of tables.
C, P, U, M, R = "county_code", "care_provider_id", "unit_id", "moment", "closing_reason"
FAMILY = [(), (C,), (C, P), (C, P, U), (C, P, U, M), (C, P, U, M, R), (M,), (M, C), (M, C, P)]
PUBLISHED = [t for t in FAMILY if t]


def world(rng: random.Random, most: int = 3) -> dict[tuple[Any, ...], int]:
    """Finest cells (county, provider, unit, moment, reason) -> count, most 1–9."""
    facts: dict[tuple[Any, ...], int] = {}
    for c in range(rng.randint(1, most)):
        for p in range(rng.randint(1, most)):
            for u in range(rng.randint(1, most)):
                for m in rng.sample("ABCD", rng.randint(1, 3)):
                    for r in rng.sample(["x", "y", "z", None], rng.randint(1, most)):
                        n = rng.choice([0, 1, 2, 3, 5, 8, 9, 10, 11, 14, 20, 40])
                        if n:
                            facts[(f"0{c + 1}", f"cp{c}{p}", f"u{c}{p}{u}", m, r)] = n
    return facts


def tables(facts: dict[tuple[Any, ...], int], family: list[tuple[str, ...]]) -> dict[Cell, int]:
    order = (C, P, U, M, R)
    out: dict[Cell, int] = defaultdict(int)
    for fact, n in facts.items():
        row = dict(zip(order, fact, strict=True))
        for dims in family:
            out[frozenset((d, row[d]) for d in dims)] += n
    return dict(out)


def as_key(cell: Cell) -> Key:
    return key(dict(cell))


def check(values: dict[Cell, int], opted_in: set[Any] | None, family: list[tuple[str, ...]],
          published_tables: list[tuple[str, ...]], solve_too: bool = False) -> None:  # fmt: skip
    published_dims = {frozenset(t) for t in published_tables}

    def visible(cell: Cell) -> bool:
        d = dict(cell)
        if frozenset(d) not in published_dims:
            return False
        return opted_in is None or P not in d or d[P] in opted_in

    published = {c for c in values if visible(c)}
    decided = linked_suppression(values, published)
    withheld = decided.withheld
    assert decided.primary == {c for c in published if masked(values[c])}
    assert withheld <= published and all(values[c] > 0 for c in withheld)
    # What the answers show, and what an attacker knows exists but cannot see.
    shown: dict[Key, int | None] = {}
    for c in values:
        if c in published:
            shown[as_key(c)] = None if c in withheld else values[c]
        elif frozenset(dict(c)) in published_dims:
            shown[as_key(c)] = None  # left out (not opted in): exists, unknown
    found = attack(shown)
    truth = {as_key(c): v for c, v in values.items()}
    assert not leaks(found, truth, {as_key(c) for c in withheld})
    if solve_too:  # every relation at once, exactly: nothing more follows
        solved = {k: Derivation(k, int(v), (), []) for k, v in solve(shown).items()}
        assert not leaks(solved, truth, {as_key(c) for c in withheld})


def leaks(found: dict[Key, Any], truth: dict[Key, int], withheld: set[Key]) -> list[str]:
    out = []
    for k, how in found.items():
        assert how.value == truth.get(k, 0), "the checker subtracts exact sums"
        if k in withheld:
            out.append(f"withheld {k} = {how.value} from {how.total} - {how.via}")
        elif k != () and masked(how.value):
            out.append(f"left-out {k} = {how.value} derivable")
    return out


def test_random_hierarchies_leave_no_withheld_cell_derivable() -> None:
    for seed in range(250):
        rng = random.Random(seed)
        values = tables(world(rng), FAMILY)
        providers = sorted({str(v) for c in values for d, v in c if d == P})
        opted = None if seed % 2 else set(rng.sample(providers, rng.randint(0, len(providers))))
        check(values, opted, FAMILY, PUBLISHED)


def test_random_hierarchies_solved_as_one_linear_system() -> None:
    """Stronger than one subtraction at a time: Gauss-Jordan over all relations
    (a cell on no cycle of unknowns, as in a two-way table, is fixed)."""
    for seed in range(120):
        rng = random.Random(9000 + seed)
        values = tables(world(rng, most=2), FAMILY)
        providers = sorted({str(v) for c in values for d, v in c if d == P})
        opted = None if seed % 2 else set(rng.sample(providers, rng.randint(0, len(providers))))
        check(values, opted, FAMILY, PUBLISHED, solve_too=True)


def test_rows_by_columns_with_both_margins() -> None:
    """A two-way table with its row totals, column totals and grand total shown."""
    family = [(), (C,), (M,), (C, M)]
    for seed in range(250):
        rng = random.Random(1000 + seed)
        facts = {(f"0{c}", "p", "u", m, None): rng.choice([0, 1, 4, 9, 10, 12, 30])
                 for c in range(rng.randint(1, 4)) for m in "ABCD"[: rng.randint(1, 4)]}  # fmt: skip
        values = tables({k: v for k, v in facts.items() if v}, family)
        check(values, None, family, family, solve_too=True)


def test_the_checker_finds_what_primary_suppression_alone_leaves() -> None:
    """Today's rule (1–9 withheld per level, nothing across levels) leaks."""
    leaked = 0
    for seed in range(40):
        values = tables(world(random.Random(seed)), FAMILY)
        primary = {c for c in values if c and masked(values[c])}
        shown = {as_key(c): None if c in primary else v for c, v in values.items() if c}
        truth = {as_key(c): v for c, v in values.items()}
        leaked += bool(leaks(attack(shown), truth, {as_key(c) for c in primary}))
    assert leaked > 20


def test_the_issue_example_county_minus_shown_provider() -> None:
    """County 14 shows 24; one provider 20, the other 4: the 20 (or the 24)
    must go too, and the decision is the same whichever level is asked."""
    facts = {("14", "cpA", "uA", "Bedömning", None): 20, ("14", "cpB", "uB", "Bedömning", None): 4,
             ("01", "cpC", "uC", "Bedömning", None): 50}  # fmt: skip
    values = tables(facts, FAMILY)
    published = {c for c in values if c}
    decided = linked_suppression(values, published)
    a = frozenset({(M, "Bedömning"), (C, "14"), (P, "cpA")})
    b = frozenset({(M, "Bedömning"), (C, "14"), (P, "cpB")})
    assert b in decided.primary
    assert decided.secondary, "one more cell of county 14 must be withheld"
    assert a in decided.withheld or frozenset({(M, "Bedömning"), (C, "14")}) in decided.withheld
    check(values, None, FAMILY, PUBLISHED)


def test_the_decision_does_not_depend_on_input_order() -> None:
    for seed in range(40):
        rng = random.Random(5000 + seed)
        values = tables(world(rng), FAMILY)
        published = {c for c in values if c}
        first = linked_suppression(values, published)
        items = list(values.items())
        for _ in range(3):
            rng.shuffle(items)
            assert linked_suppression(dict(items), set(published)) == first


def test_a_left_out_organisation_with_few_residents_is_protected() -> None:
    """County 03 shows 30 and its only opted-in provider 25: the left-out
    provider's 5 would follow, so the opted-in provider's cell is withheld."""
    facts: dict[tuple[Any, ...], int] = {
        ("03", "cpIn", "u1", "A", None): 25, ("03", "cpOut", "u2", "A", None): 5}  # fmt: skip
    values = tables(facts, FAMILY)
    published = {c for c in values if c and dict(c).get(P) != "cpOut"}
    decided = linked_suppression(values, published)
    assert decided.secondary
    check(values, {"cpIn"}, FAMILY, PUBLISHED)


def test_no_secondary_when_nothing_is_derivable() -> None:
    facts = {("01", f"cp{i}", f"u{i}", m, None): n
             for i, (m, n) in enumerate(itertools.product("AB", [15, 30]))}  # fmt: skip
    values = tables(facts, FAMILY)
    decided = linked_suppression(values, {c for c in values if c})
    assert decided.primary == set() and decided.secondary == set()


def test_lattice_rows_become_cells_keyed_like_answer_rows() -> None:
    """grouping() marks the keys a GROUPING SETS row sums away (last key = bit 0)."""
    from reports.sob_rows import LINKED_DIMS, residents_cells

    found = [
        ("", "", "", "", None, 0b11111, 90),  # the national total
        ("14", "", "", "", None, 0b01111, 24),
        ("14", "cpA", "", "Bedömning", None, 0b00101, 20),
        ("14", "cpA", "uA", "Bedömning", None, 0b00000, 12),  # reason None: not completed
    ]
    cells = residents_cells(found)
    assert cells == {
        frozenset(): 90,
        frozenset({(C, "14")}): 24,
        frozenset({(C, "14"), (P, "cpA"), (M, "Bedömning")}): 20,
        frozenset({(C, "14"), (P, "cpA"), (U, "uA"), (M, "Bedömning"), (R, None)}): 12,
    }
    assert LINKED_DIMS == (C, P, U, M, R)


def test_withheld_rows_carry_nulls_and_say_which_kind() -> None:
    from reports.lattice import Linked, Suppression
    from reports.linked_disclosure import published_cells, withhold_rows

    a, b = (frozenset({(C, "14"), (P, x)}) for x in ("cpA", "cpB"))
    county = frozenset({(C, "14")})
    linked = Linked("residents", (C, P), {county: 24, a: 20, b: 4},
                    frozenset({frozenset({C}), frozenset({C, P})}))  # fmt: skip
    only_a = published_cells(linked, lambda names, rows: [r for r in rows if "cpB" not in r])
    assert only_a == {county, a}
    names = ["county_code", "care_provider_id", "started", "residents"]
    rows = [["14", "cpA", 30, 20], ["14", "cpB", 4, None]]
    out, primary, secondary = withhold_rows(linked, Suppression(frozenset({b}), frozenset({a})),
                                            names, rows)  # fmt: skip
    assert out == [["14", "cpA", 30, None], ["14", "cpB", 4, None]] and primary and secondary
    assert rows[0][3] == 20, "the input rows are left alone"
