"""Disclosure control for counts of residents (patients), pure.

Primary: a count 1–9 is withheld (null); 0 is shown. Secondary: where cells
are additive and their total is known or derivable, a single withheld cell
could be recovered by subtraction, so the smallest shown non-zero cell of the
group is withheld too (ties: the group's order).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

NOTE_PRIMARY = (
    "Antal invånare/patienter mellan 1 och 9 redovisas inte (null) för att skydda "
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
