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
from collections.abc import Iterable, Sequence
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

    `rows_view(days, lo, hi)` returns the rows of the Stockholm days `days`
    (all when empty) whose raw rows lie in [lo, hi), without the version;
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
        """Recompute the days; returns how many."""
        sql = (
            f"INSERT INTO {self.table} SELECT *, now64(9) FROM {self.rows_view}("
            "days = {days:Array(Date)}, lo = {lo:DateTime64(3, 'UTC')}, "
            "hi = {hi:DateTime64(3, 'UTC')})"
        )
        n = 0
        for group in months(days):
            lo, hi = utc_bounds(group)
            store.command(sql, {"days": group, "lo": _text(lo), "hi": _text(hi)}, _NO_DEDUP)
            n += len(group)
        return n

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


def _text(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
