"""Rollups kept exact by the sink: day rollups, the mechanism shared by the SOB
moments (sinks/sob_rollups.py) and the 1177 e-services cases
(sinks/etj_rollups.py), and keyed current-state tables (the e-services
accounts' county runs).

A batch's events can move their cases' milestones and first attributes to
other days. Every day a case of the batch ever touched (in the raw table, or
a file that fills it) is recomputed whole from what is stored, by one
parameterised view (`rows_view`, the only definition of a day's rows), and
written anew as that day's snapshot under one version (`now64(9)` of the
server, taken when the recomputing query starts: a later snapshot has seen
every row an earlier one saw). Readers take each day's rows of its highest
version; each snapshot has a marker row (kind '') so that a day left empty
reads empty. That set of days holds the days a case left as well as those it
moved to, so nothing needs the rollup's previous state: a recompute is a pure
function of what is stored, and running it again (after a crash, by another
worker, on a batch Kafka delivers twice) writes the same rows under a later
version.

A change whose recompute could be cut off (a backfill's swap, a file applied)
marks the rollup stale in `derived_state` first and clears the mark when its
recompute is done; a worker rebuilds a rollup left stale when it starts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sinks.clickhouse import ClickHouseStore, check_identifier

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# A snapshot's rows are not retries of anything: never drop a block as a duplicate.
_NO_DEDUP = {"insert_deduplicate": 0}
_STALE_KEYS = (
    "SELECT key FROM derived_state WHERE name = {n:String} "
    "GROUP BY key HAVING argMax(stale, at) = 1"
)


# Days per snapshot query in a rebuild: bounds one query's memory.
REBUILD_CHUNK = 366


def utc_months(days: Iterable[dt.date]) -> list[int]:
    """The raw tables' partitions (UTC months, YYYYMM) that hold the Stockholm
    days' instants, pure: a day's first hour may be the previous UTC month."""
    out = set()
    for d in days:
        for edge in (d, d + dt.timedelta(days=1)):
            t = dt.datetime.combine(edge, dt.time(), STOCKHOLM).astimezone(dt.UTC)
            t -= dt.timedelta(microseconds=1) if edge != d else dt.timedelta(0)
            out.add(t.year * 100 + t.month)
    return sorted(out)


class Rollup:
    """What every rollup the sink keeps shares: its table, a full rebuild,
    and the stale marks in `derived_state` that make a cut-off recompute
    visible to the next worker start."""

    table: str

    def rebuild(self, store: ClickHouseStore) -> int:
        raise NotImplementedError

    def mark_stale(self, store: ClickHouseStore, key: str = "") -> dt.datetime:
        """Before a change whose recompute could be cut off half-way; returns
        the time to `clear` with once the recompute is done."""
        at = _now(store)
        self._state(store, key, True, at)
        return at

    def clear(self, store: ClickHouseStore, key: str, at: dt.datetime) -> None:
        """The recompute that began after `at` was marked is done."""
        self._state(store, key, False, at)

    def is_stale(self, store: ClickHouseStore) -> bool:
        return bool(store.query_rows(_STALE_KEYS, {"n": self.table}))

    def heal(self, store: ClickHouseStore) -> bool:
        """Rebuild if a recompute was left unfinished; True if it was."""
        if not self.is_stale(store):
            return False
        self.rebuild(store)
        return True

    def _clear_all(self, store: ClickHouseStore, started: dt.datetime) -> None:
        for key in [r[0] for r in store.query_rows(_STALE_KEYS, {"n": self.table})]:
            self.clear(store, key, started)

    def _state(self, store: ClickHouseStore, key: str, stale: bool, at: dt.datetime) -> None:
        store.insert_columns(
            "derived_state",
            {"name": [self.table], "key": [key], "stale": [int(stale)], "at": [at]},
        )


@dataclass(frozen=True)
class DayRollup(Rollup):
    """One rollup table of day snapshots and the SQL that finds its days.

    `rows_view(days, months)` returns the rows of the Stockholm days `days`
    (all when empty), reading the raw table's partitions `months` (all when
    empty), without the version;
    `days_of_cases` the days the cases `{ids:Array(String)}` touch; `raw_days`
    every day the raw tables have rows on. All constant text."""

    table: str
    rows_view: str
    days_of_cases: str
    raw_days: str

    def __post_init__(self) -> None:
        check_identifier(self.table)
        check_identifier(self.rows_view)

    def snapshot(self, store: ClickHouseStore, days: Iterable[dt.date]) -> int:
        """Recompute the days as one snapshot (a rebuild: per chunk of days);
        returns how many."""
        sql = (
            f"INSERT INTO {self.table} SELECT *, now64(9) FROM {self.rows_view}("
            "days = {days:Array(Date)}, months = {months:Array(UInt32)})"
        )
        todo = sorted(set(days))
        for i in range(0, len(todo), REBUILD_CHUNK):
            group = todo[i : i + REBUILD_CHUNK]
            store.command(sql, {"days": group, "months": utc_months(group)}, _NO_DEDUP)
        return len(todo)

    def refresh(self, store: ClickHouseStore, case_ids: Iterable[str]) -> int:
        """Recompute every day the cases touch; returns how many days."""
        ids = sorted(set(case_ids))
        if not ids:
            return 0
        days = [r[0] for r in store.query_rows(self.days_of_cases, {"ids": ids})]
        return self.snapshot(store, days)

    def rebuild(self, store: ClickHouseStore) -> int:
        """Recompute every day there is or was (after rows arrived by INSERT ...
        SELECT, a backfill's swap or a bulk copy); returns how many days."""
        started = _now(store)
        every = f"SELECT DISTINCT day FROM {self.table} UNION DISTINCT {self.raw_days}"
        n = self.snapshot(store, [r[0] for r in store.query_rows(every)])
        self._clear_all(store, started)
        return n


@dataclass(frozen=True)
class KeyedRollup(Rollup):
    """A current-state table with one row per key (e.g. an account), which a
    batch changes only for its own keys: `rows_view(ids)` returns the rows of
    the keys `ids` (all when empty) recomputed whole from what is stored,
    written under a new version; a ReplacingMergeTree(version) ordered by the
    key keeps the latest. As with day snapshots, running it again changes
    nothing and a later version has seen everything an earlier one saw."""

    table: str
    rows_view: str

    def __post_init__(self) -> None:
        check_identifier(self.table)
        check_identifier(self.rows_view)

    def refresh(self, store: ClickHouseStore, keys: Iterable[str]) -> int:
        """Recompute the keys; returns how many."""
        ids = sorted(set(keys))
        if ids:
            self._write(store, ids)
        return len(ids)

    def rebuild(self, store: ClickHouseStore) -> int:
        started = _now(store)
        self._write(store, [])
        self._clear_all(store, started)
        return int(store.query_rows(f"SELECT count() FROM {self.table}")[0][0])

    def _write(self, store: ClickHouseStore, ids: list[str]) -> None:
        sql = (
            f"INSERT INTO {self.table} SELECT *, now64(9) FROM {self.rows_view}("
            "ids = {ids:Array(String)})"
        )
        store.command(sql, {"ids": ids}, _NO_DEDUP)


def _now(store: ClickHouseStore) -> dt.datetime:
    return store.query_rows("SELECT now64(9)")[0][0]  # type: ignore[no-any-return]
