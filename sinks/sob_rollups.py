"""The SOB day rollup (`sob_moments_daily`, migration 0018) kept exact by the
mechanism of sinks/day_rollups.py.

Every day a case of the batch ever had a start or completion on (any
Inprogress or Done transaction of it, in the stream or a file) is recomputed
whole from the lifecycle as it is now (view `sob_moments_day_rows`).
"""

from __future__ import annotations

from sinks.day_rollups import STOCKHOLM, DayRollup, utc_months

__all__ = [
    "ROLLUP", "STOCKHOLM", "TABLES", "clear", "heal", "is_stale", "mark_stale", "rebuild",
    "refresh", "snapshot", "utc_months",
]  # fmt: skip

TABLES = ("sob_moments_daily",)

ROLLUP = DayRollup(
    table="sob_moments_daily",
    rows_view="sob_moments_day_rows",
    # The Stockholm days on which the given cases have (or had) a start or completion.
    days_of_cases=(
        "SELECT DISTINCT toDate(occurred_at, 'Europe/Stockholm') FROM sob_transactions "
        "WHERE case_type = 'Process' AND case_id IN {ids:Array(String)} "
        "AND status IN ('Inprogress', 'Done') "
        "UNION DISTINCT SELECT DISTINCT assumeNotNull(toDate(t, 'Europe/Stockholm')) "
        "FROM sob_file_cases ARRAY JOIN [started_at, completed_at] AS t "
        "WHERE case_type = 'Process' AND case_id IN {ids:Array(String)} AND t IS NOT NULL"
    ),
    raw_days=(
        "SELECT DISTINCT toDate(occurred_at, 'Europe/Stockholm') FROM sob_transactions "
        "WHERE case_type = 'Process' AND status IN ('Inprogress', 'Done') "
        "UNION DISTINCT SELECT DISTINCT assumeNotNull(toDate(t, 'Europe/Stockholm')) "
        "FROM sob_file_cases ARRAY JOIN [started_at, completed_at] AS t "
        "WHERE case_type = 'Process' AND t IS NOT NULL"
    ),
)

snapshot = ROLLUP.snapshot
refresh = ROLLUP.refresh
rebuild = ROLLUP.rebuild
mark_stale = ROLLUP.mark_stale
clear = ROLLUP.clear
is_stale = ROLLUP.is_stale
heal = ROLLUP.heal
