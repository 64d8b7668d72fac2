"""The SOB day rollup (`sob_moments_daily`, migration 0018) kept exact.

A batch's transactions can move their cases' starts, completions and first
attributes to other days. Every day a case of the batch ever had a start or
completion on (any Inprogress or Done transaction of it, in the stream or a
file) is recomputed whole from the lifecycle as it is now (view
`sob_moments_day_rows`) and written anew as that day's snapshot. That set
holds the days the case left as well as those it moved to, so nothing needs
the rollup's previous state: a recompute is a pure function of what is
stored, and running it again (after a crash, by another worker, on a batch
Kafka delivers twice) writes the same rows under a later version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from sinks.clickhouse import ClickHouseStore

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TABLES = ("sob_moments_daily",)

# The Stockholm days on which the given cases have (or had) a start or completion.
_DAYS_OF_CASES = (
    "SELECT DISTINCT toDate(occurred_at, 'Europe/Stockholm') FROM sob_transactions "
    "WHERE case_type = 'Process' AND case_id IN {ids:Array(String)} "
    "AND status IN ('Inprogress', 'Done') "
    "UNION DISTINCT SELECT DISTINCT assumeNotNull(toDate(t, 'Europe/Stockholm')) "
    "FROM sob_file_cases ARRAY JOIN [started_at, completed_at] AS t "
    "WHERE case_type = 'Process' AND case_id IN {ids:Array(String)} AND t IS NOT NULL"
)
_ALL_DAYS = (
    "SELECT DISTINCT day FROM sob_moments_daily "
    "UNION DISTINCT SELECT DISTINCT toDate(occurred_at, 'Europe/Stockholm') FROM sob_transactions "
    "WHERE case_type = 'Process' AND status IN ('Inprogress', 'Done') "
    "UNION DISTINCT SELECT DISTINCT assumeNotNull(toDate(t, 'Europe/Stockholm')) "
    "FROM sob_file_cases ARRAY JOIN [started_at, completed_at] AS t "
    "WHERE case_type = 'Process' AND t IS NOT NULL"
)
# One snapshot of the days: every row under the version this query starts at.
_SNAPSHOT = (
    "INSERT INTO sob_moments_daily SELECT *, now64(9) FROM sob_moments_day_rows("
    "days = {days:Array(Date)}, lo = {lo:DateTime64(3, 'UTC')}, hi = {hi:DateTime64(3, 'UTC')})"
)
# A snapshot's rows are not retries of anything: never drop a block as a duplicate.
_NO_DEDUP = {"insert_deduplicate": 0}


def months(days: Iterable[dt.date]) -> list[list[dt.date]]:
    """The days grouped by calendar month, in order, pure: one snapshot per
    month keeps each recompute's scan of the raw table to its own partitions."""
    out: dict[tuple[int, int], list[dt.date]] = {}
    for d in sorted(set(days)):
        out.setdefault((d.year, d.month), []).append(d)
    return list(out.values())


def utc_bounds(days: Sequence[dt.date]) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants from the first day's Stockholm midnight to the one
    after the last day, pure."""
    lo = dt.datetime.combine(min(days), dt.time(), STOCKHOLM).astimezone(dt.UTC)
    end = max(days) + dt.timedelta(days=1)
    hi = dt.datetime.combine(end, dt.time(), STOCKHOLM).astimezone(dt.UTC)
    return lo, hi


def snapshot(store: ClickHouseStore, days: Iterable[dt.date]) -> int:
    """Recompute the days; returns how many."""
    n = 0
    for group in months(days):
        lo, hi = utc_bounds(group)
        store.command(_SNAPSHOT, {"days": group, "lo": _text(lo), "hi": _text(hi)}, _NO_DEDUP)
        n += len(group)
    return n


def refresh(store: ClickHouseStore, case_ids: Iterable[str]) -> int:
    """Recompute every day the cases touch; returns how many days."""
    ids = sorted(set(case_ids))
    if not ids:
        return 0
    days = [r[0] for r in store.query_rows(_DAYS_OF_CASES, {"ids": ids})]
    return snapshot(store, days)


def rebuild(store: ClickHouseStore) -> int:
    """Recompute every day there is or was (after rows arrived by INSERT ...
    SELECT, a backfill's swap or a bulk copy); returns how many days."""
    started = _now(store)
    n = snapshot(store, [r[0] for r in store.query_rows(_ALL_DAYS)])
    keys = [r[0] for r in store.query_rows(_STALE_KEYS, {"n": TABLES[0]})]
    for key in keys:
        clear(store, key, started)
    return n


def mark_stale(store: ClickHouseStore, key: str = "") -> dt.datetime:
    """Before a change whose recompute could be cut off half-way; returns the
    time to `clear` with once the recompute is done."""
    at = _now(store)
    _state(store, key, True, at)
    return at


def clear(store: ClickHouseStore, key: str, at: dt.datetime) -> None:
    """The recompute that began after `at` was marked is done."""
    _state(store, key, False, at)


def is_stale(store: ClickHouseStore) -> bool:
    return bool(store.query_rows(_STALE_KEYS, {"n": TABLES[0]}))


def heal(store: ClickHouseStore) -> bool:
    """Rebuild if a recompute was left unfinished; True if it was."""
    if not is_stale(store):
        return False
    rebuild(store)
    return True


_STALE_KEYS = (
    "SELECT key FROM derived_state WHERE name = {n:String} "
    "GROUP BY key HAVING argMax(stale, at) = 1"
)


def _now(store: ClickHouseStore) -> dt.datetime:
    return store.query_rows("SELECT now64(9)")[0][0]  # type: ignore[no-any-return]


def _state(store: ClickHouseStore, key: str, stale: bool, at: dt.datetime) -> None:
    store.insert_columns(
        "derived_state",
        {"name": [TABLES[0]], "key": [key], "stale": [int(stale)], "at": [at]},
    )


def _text(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
