"""Calendar arithmetic for reports, pure: months, weekdays, years of a period.

Dates here are already Stockholm dates (the rollups bucket at Stockholm
midnight), so no time zone enters; DST only matters when instants are bucketed.
"""

from __future__ import annotations

import datetime as dt


def last_complete_months(today: dt.date, n: int) -> tuple[dt.date, dt.date]:
    first_this = today.replace(day=1)
    end = first_this - dt.timedelta(days=1)
    y, m = first_this.year, first_this.month - n
    while m < 1:
        m += 12
        y -= 1
    return dt.date(y, m, 1), end


def months(date_from: dt.date, date_to: dt.date) -> list[str]:
    """Every month ("YYYY-MM") the period touches, in order."""
    out = []
    y, m = date_from.year, date_from.month
    while (y, m) <= (date_to.year, date_to.month):
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def weekday_counts(date_from: dt.date, date_to: dt.date) -> dict[int, int]:
    """How many Mondays (1) … Sundays (7) the inclusive period holds."""
    days = (date_to - date_from).days + 1
    full, rest = divmod(days, 7)
    counts = dict.fromkeys(range(1, 8), full)
    start = date_from.isoweekday()
    for i in range(rest):
        counts[(start - 1 + i) % 7 + 1] += 1
    return counts


def years(date_from: dt.date, date_to: dt.date) -> list[int]:
    return list(range(date_from.year, date_to.year + 1))
