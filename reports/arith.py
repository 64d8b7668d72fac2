"""Report arithmetic, pure and exact where the inputs are counts."""

from __future__ import annotations

from collections.abc import Mapping


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def per_1000_over_years(
    bookings_by_year: Mapping[int, int], population_by_year: Mapping[int, int | None]
) -> float | None:
    """1000 × Σ_y bookings_y ÷ population_y over the period's years.

    None when a year of the period has no known population: a partial sum
    would look like a rate but understate it.
    """
    total = 0.0
    for year, pop in population_by_year.items():
        if not pop:
            return None
        total += bookings_by_year.get(year, 0) / pop
    return 1000 * total
