"""Disclosure control for counts of residents (patients), pure: the rule.

Primary: a count 1–9 is withheld (null); 0 is shown. Secondary: where cells
are additive and their total is known or derivable, a single withheld cell
could be recovered by subtraction, so the smallest shown non-zero cell of the
group is withheld too (ties: the group's order). For drill-downs, whose levels
are separate requests, `linked_suppression` (reports/linked_disclosure.py)
decides over every level and the totals behind them at once, so whichever
level is asked the same cells are withheld and none follows from the others;
the cells it decides over are indexed once in a `Lattice` (reports/lattice.py).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

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


# The note of linked tables (reports/linked_disclosure.py): every level of a
# drill-down and the totals behind it.
NOTE_LINKED = (
    "Ytterligare celler har undertryckts (sekundär röjandekontroll) eftersom de annars, "
    "tillsammans med andra nivåer eller summor av samma statistik, skulle låta en "
    "undertryckt cell räknas fram."
)
