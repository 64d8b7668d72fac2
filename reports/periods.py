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


def _month_end(y: int, m: int) -> dt.date:
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _shift_months(d: dt.date, n: int) -> dt.date:
    """The same day n months earlier (the month's last day when it has fewer)."""
    y, m = divmod(d.year * 12 + d.month - 1 - n, 12)
    return min(d.replace(year=y, month=m + 1, day=1) + dt.timedelta(days=d.day - 1),
               _month_end(y, m + 1))  # fmt: skip


def comparison_period(date_from: dt.date, date_to: dt.date, kind: str) -> tuple[dt.date, dt.date]:
    """The period a report is compared with: "year" = the same dates a year
    earlier; "previous" = the period just before, as long. A period of whole
    months is compared with as many whole months (Jan–Jun with Jul–Dec), so
    months of different lengths line up; any other with as many days."""
    if kind == "year":
        end = _shift_months(date_to, 12)
        if date_to == _month_end(date_to.year, date_to.month):
            end = _month_end(end.year, end.month)  # 29 February -> 28 February
        return _shift_months(date_from, 12), end
    if date_from.day == 1 and date_to == _month_end(date_to.year, date_to.month):
        n = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
        start = _shift_months(date_from, n)
        return start, date_from - dt.timedelta(days=1)
    days = (date_to - date_from).days + 1
    end = date_from - dt.timedelta(days=1)
    return end - dt.timedelta(days=days - 1), end
