import datetime as dt

import pytest

from reports.arith import per_1000_over_years, ratio
from reports.periods import comparison_period, last_complete_months, months, weekday_counts

D = dt.date


def brute_weekdays(a: dt.date, b: dt.date) -> dict[int, int]:
    out = dict.fromkeys(range(1, 8), 0)
    d = a
    while d <= b:
        out[d.isoweekday()] += 1
        d += dt.timedelta(days=1)
    return out


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (D(2024, 3, 30), D(2024, 4, 1)),  # across the spring DST change
        (D(2024, 10, 26), D(2024, 10, 28)),  # across the autumn DST change
        (D(2024, 2, 28), D(2024, 3, 1)),  # leap day
        (D(2023, 2, 28), D(2023, 3, 1)),
        (D(2024, 1, 1), D(2024, 12, 31)),
        (D(2024, 5, 5), D(2024, 5, 5)),
        (D(2017, 10, 1), D(2026, 11, 22)),
    ],
)
def test_weekday_counts_match_day_by_day_counting(a: dt.date, b: dt.date) -> None:
    assert weekday_counts(a, b) == brute_weekdays(a, b)
    assert sum(weekday_counts(a, b).values()) == (b - a).days + 1


def test_months_touched_include_partial_months() -> None:
    assert months(D(2023, 11, 15), D(2024, 2, 1)) == ["2023-11", "2023-12", "2024-01", "2024-02"]


def test_default_period_is_last_twelve_complete_months() -> None:
    assert last_complete_months(D(2026, 11, 23), 12) == (D(2025, 11, 1), D(2026, 10, 31))
    assert last_complete_months(D(2026, 1, 1), 12) == (D(2025, 1, 1), D(2025, 12, 31))


def test_per_1000_sums_each_years_rate() -> None:
    rate = per_1000_over_years({2023: 100, 2024: 300}, {2023: 1000, 2024: 2000})
    assert rate == pytest.approx(1000 * (100 / 1000 + 300 / 2000))


def test_per_1000_is_unknown_without_a_years_population() -> None:
    assert per_1000_over_years({2024: 5}, {2023: 1000, 2024: None}) is None


def test_ratio_of_nothing_is_null() -> None:
    assert ratio(1, 0) is None and ratio(1, 4) == 0.25


@pytest.mark.parametrize(
    ("period", "kind", "want"),
    [
        ((D(2025, 1, 1), D(2025, 6, 30)), "previous", (D(2024, 7, 1), D(2024, 12, 31))),
        ((D(2025, 3, 1), D(2025, 3, 31)), "previous", (D(2025, 2, 1), D(2025, 2, 28))),
        ((D(2025, 3, 10), D(2025, 4, 8)), "previous", (D(2025, 2, 8), D(2025, 3, 9))),
        ((D(2025, 1, 1), D(2025, 6, 30)), "year", (D(2024, 1, 1), D(2024, 6, 30))),
        ((D(2024, 2, 1), D(2024, 2, 29)), "year", (D(2023, 2, 1), D(2023, 2, 28))),
        ((D(2025, 2, 1), D(2025, 2, 28)), "year", (D(2024, 2, 1), D(2024, 2, 29))),
        ((D(2025, 11, 7), D(2025, 12, 6)), "year", (D(2024, 11, 7), D(2024, 12, 6))),
    ],
)
def test_comparison_period(
    period: tuple[dt.date, dt.date], kind: str, want: tuple[dt.date, dt.date]
) -> None:
    assert comparison_period(*period, kind) == want
