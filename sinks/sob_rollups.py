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
from collections.abc import Iterable
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
    "days = {days:Array(Date)}, months = {months:Array(UInt32)})"
)
# Days per snapshot query in a rebuild: bounds one query's memory.
REBUILD_CHUNK = 366
# A snapshot's rows are not retries of anything: never drop a block as a duplicate.
_NO_DEDUP = {"insert_deduplicate": 0}


def utc_months(days: Iterable[dt.date]) -> list[int]:
    """The raw table's partitions (UTC months, YYYYMM) that hold the Stockholm
    days' instants, pure: a day's first hour may be the previous UTC month."""
    out = set()
    for d in days:
        for edge in (d, d + dt.timedelta(days=1)):
            t = dt.datetime.combine(edge, dt.time(), STOCKHOLM).astimezone(dt.UTC)
            t -= dt.timedelta(microseconds=1) if edge != d else dt.timedelta(0)
            out.add(t.year * 100 + t.month)
    return sorted(out)


def snapshot(store: ClickHouseStore, days: Iterable[dt.date]) -> int:
    """Recompute the days, as one snapshot (a rebuild: per chunk of days);
    returns how many."""
    todo = sorted(set(days))
    for i in range(0, len(todo), REBUILD_CHUNK):
        group = todo[i : i + REBUILD_CHUNK]
        store.command(_SNAPSHOT, {"days": group, "months": utc_months(group)}, _NO_DEDUP)
    return len(todo)


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
