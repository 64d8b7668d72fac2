"""Which raw partitions a recompute of Stockholm days reads (sinks/sob_rollups.py), pure."""

from __future__ import annotations

import datetime as dt

from sinks.sob_rollups import utc_months


def test_a_first_of_the_month_reaches_into_the_previous_utc_month() -> None:
    # 1 February 00:00 in Stockholm is 31 January 23:00 UTC
    assert utc_months([dt.date(2024, 2, 1)]) == [202401, 202402]
    # and the last day of a month ends inside it (Stockholm midnight = 23:00 UTC)
    assert utc_months([dt.date(2024, 1, 31)]) == [202401]
    assert utc_months([dt.date(2024, 6, 15), dt.date(2023, 12, 31)]) == [202312, 202406]
    assert utc_months([]) == []
