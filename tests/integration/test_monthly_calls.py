"""Web booking over the monthly rollup (issue 17) on real chDB, no broker.

A whole month of a period is read from ntjp_calls_monthly minus the stream
rows of its file-closed days plus those days' file counts; partial months
from the daily rollup. Every report must equal the oracle (the stream on open
days, the file on closed days) for periods that start and end mid-month, on
month and DST edges, and that hold file-closed days inside whole months; a
store that had calls before migration 0019 gets its months derived once; a
catalogue change shows in the very next answer."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from reconcile.apply import apply_dir
from reports import engine
from sinks.clickhouse import ClickHouseStore
from sinks.migrate import MIGRATIONS, migrate
from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from tests.integration.compare import diff
from tests.oracle.ntjp import expected, stockholm_day

SERVICE = "webbtidbokning"
KEYS = {
    "events-per-month": ["month", "activity"],
    "bookings-per-county": ["county_code"],
    "share-per-service": ["activity"],
    "my-bookings-per-month": ["month"],
    "events-per-weekday": ["weekday", "activity"],
    "events-by-hierarchy": ["county_code", "care_provider_id", "unit_id", "activity"],
}
# Closed by a nightly file: inside a whole month, in an edge month, the DST
# change on a month's last day, and the first day of the next month.
CLOSED = (dt.date(2024, 3, 12), dt.date(2024, 2, 26), dt.date(2024, 3, 31), dt.date(2024, 4, 1))
PERIODS = (
    ("2024-02-01", "2024-04-30"),  # whole months only
    ("2024-02-25", "2024-04-05"),  # partial edges around a whole March
    ("2024-03-01", "2024-03-31"),  # one whole month
    ("2024-03-10", "2024-03-31"),  # ends on a month end, no whole month
    ("2024-03-31", "2024-04-01"),  # a month edge on the DST change
    ("2024-03-12", "2024-03-12"),  # one closed day
    ("2024-01-01", "2024-12-31"),  # the year, months without calls
)


def call(event_id: str, at: str, unit: str, op: str = "MakeBooking") -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": at, "operation": op,
            "logical_address": unit, "consumer_id": "C1", "status": "ok"}  # fmt: skip


def insert_calls(store: ClickHouseStore, calls: list[dict[str, Any]], first: int = 0) -> None:
    """As the sink stores them (one block per UTC month), through the views."""
    by_month: dict[str, list[dict[str, Any]]] = {}
    for c in calls:
        t = dt.datetime.fromisoformat(c["occurred_at"]).astimezone(dt.UTC)
        by_month.setdefault(f"{t:%Y%m}", []).append({**c, "t": t})
    offset = first
    for rows in by_month.values():
        n = len(rows)
        store.insert_columns("ntjp_calls", {
            "event_id": [r["event_id"] for r in rows], "occurred_at": [r["t"] for r in rows],
            "operation": [r["operation"] for r in rows],
            "logical_address": [r["logical_address"] for r in rows],
            "consumer_id": [""] * n, "status": [r.get("status", "ok") for r in rows],
            "county_at_ingest": [""] * n, "source_partition": [0] * n,
            "source_offset": list(range(offset, offset + n)), "calls": [1] * n,
        })  # fmt: skip
        offset += n


def insert_world(store: ClickHouseStore, world: Any) -> None:
    units = world.units + world.unit_moves
    store.insert_columns("hsa_units", {
        "hsa_id": [u["hsa_id"] for u in units], "name": [u["name"] for u in units],
        "kind": [u["kind"] for u in units],
        "care_provider_id": [u.get("care_provider_id") or (u["hsa_id"] if u["kind"] ==
                             "care_provider" else "") for u in units],
        "county_code": [u["county_code"] for u in units],
        "updated_at": [dt.datetime.fromisoformat(u["updated_at"].replace("Z", "+00:00"))
                       for u in units],
        "deleted": [0] * len(units), "version": list(range(len(units))),
    })  # fmt: skip
    rt = world.routing
    store.insert_columns("ntjp_routing", {
        "logical_address": [r["logical_address"] for r in rt],
        "operation": [r["operation"] for r in rt],
        "active_from": [dt.date.fromisoformat(r["active_from"]) for r in rt],
        "active_to": [dt.date.fromisoformat(r["active_to"]) if r["active_to"] else None
                      for r in rt],
        "deleted": [0] * len(rt), "version": list(range(len(rt))),
    })  # fmt: skip
    pp = world.population
    store.insert_columns("scb_population", {
        "county_code": [p["county_code"] for p in pp], "year": [int(p["year"]) for p in pp],
        "population": [int(p["population"]) for p in pp],
        "deleted": [0] * len(pp), "version": list(range(len(pp))),
    })  # fmt: skip


def apply_files(store: ClickHouseStore, drop: Path, truth: list[dict[str, Any]]) -> None:
    for day in CLOSED:
        counts = Counter(
            (c["logical_address"], c["operation"])
            for c in truth
            if stockholm_day(c["occurred_at"]) == day
        )
        path = drop / "ntjp" / f"calls-{day}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["date,logical_address,operation,count"]
        lines += [f"{day},{a},{o},{n}" for (a, o), n in sorted(counts.items())]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.utime(path, (time.time() - 60, time.time() - 60))
    outcomes = apply_dir(store, drop)
    assert [o.status for o in outcomes] == ["applied"] * len(CLOSED)


def world_and_calls() -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """The world, the true calls, and what the stream delivered (gaps and extras)."""
    world = make_world(seed=171, n_units=25)
    truth = make_calls(world, dt.datetime(2024, 2, 20, tzinfo=dt.UTC),
                       dt.datetime(2024, 4, 10, tzinfo=dt.UTC), 6_000, seed=171)  # fmt: skip
    unit = next(u["hsa_id"] for u in world.units if u["kind"] == "unit")
    truth += [  # Stockholm month edges: 1 March, 31 March 23:59:59 (CEST), 1 April
        call("edge-1", "2024-02-29T23:30:00Z", unit),
        call("edge-2", "2024-03-31T21:59:59Z", unit),
        call("edge-3", "2024-03-31T22:00:00Z", unit),
        call("edge-4", "2024-03-31T22:00:00Z", "SE-NOT-IN-HSA"),
    ]
    rng = random.Random(172)
    streamed = [c for c in truth if rng.random() > 0.1]
    streamed += [{**c, "event_id": c["event_id"] + "-x"} for c in rng.sample(truth, 60)]
    return world, truth, streamed


def counted_input(truth: list[dict[str, Any]], streamed: list[dict[str, Any]]) -> list[Any]:
    """What the reports count: the stream on open days, the file on closed days."""
    return [c for c in streamed if stockholm_day(c["occurred_at"]) not in CLOSED] + [
        c for c in truth if stockholm_day(c["occurred_at"]) in CLOSED
    ]


def check_every_report(store: ClickHouseStore, world: Any, calls: list[Any],
                       units: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
    failures = []
    cp = next(u["care_provider_id"] for u in world.units if u["kind"] == "unit")
    for report, keys in KEYS.items():
        for date_from, date_to in PERIODS:
            for filters in ({}, {"county": ["00", "01"]}, {"care_provider": [cp]}):
                pairs = [("from", date_from), ("to", date_to)]
                pairs += [(k, v) for k, vs in filters.items() for v in vs]
                got = engine.run(SERVICE, report, pairs, store)
                names = [c.name for c in got.columns]
                want = expected(
                    report, calls=calls, units=units or world.units + world.unit_moves,
                    routing=world.routing, population=world.population,
                    date_from=dt.date.fromisoformat(date_from),
                    date_to=dt.date.fromisoformat(date_to), filters=filters or None,
                )  # fmt: skip
                rows = [dict(zip(names, r, strict=True)) for r in got.rows]
                problems = diff(rows, want, [k for k in keys if k in names])
                if problems:
                    failures.append(f"{report} {date_from}..{date_to} {filters}: {problems[:3]}")
    assert not failures, "\n".join(failures)


@pytest.fixture
def store(tmp_path: Path, store_settings: Callable[..., Settings]) -> Iterator[ClickHouseStore]:
    s = ClickHouseStore(store_settings("monthly", tmp_path / "home"))
    try:
        yield s
    finally:
        s.close()


def test_whole_months_with_file_closed_days_equal_the_oracle(store: ClickHouseStore,
                                                            tmp_path: Path) -> None:  # fmt: skip
    migrate(store)
    world, truth, streamed = world_and_calls()
    insert_world(store, world)
    insert_calls(store, streamed)
    apply_files(store, tmp_path / "drop", truth)
    # the whole months really are read from the monthly rollup
    months = store.query_rows("SELECT count() FROM ntjp_calls_monthly")[0][0]
    assert 0 < months < store.query_rows("SELECT count() FROM ntjp_calls_daily")[0][0]
    check_every_report(store, world, counted_input(truth, streamed))


def test_late_calls_on_a_closed_day_of_a_whole_month_count_zero(store: ClickHouseStore,
                                                                tmp_path: Path) -> None:  # fmt: skip
    migrate(store)
    world, truth, streamed = world_and_calls()
    insert_world(store, world)
    insert_calls(store, streamed)
    apply_files(store, tmp_path / "drop", truth)
    unit = next(u["hsa_id"] for u in world.units if u["kind"] == "unit")
    late = [call(f"late-{i}", "2024-03-12T10:00:00+01:00", unit) for i in range(7)]
    late += [call("late-open", "2024-03-13T10:00:00+01:00", unit)]  # an open day counts
    insert_calls(store, late, first=100_000)
    check_every_report(store, world, counted_input(truth, streamed + late))


def test_months_stored_before_the_migration_are_derived_once(store: ClickHouseStore,
                                                             tmp_path: Path) -> None:  # fmt: skip
    """A store at version 18 with calls in it is migrated: its months come
    from the daily rollup once (a re-run inserts nothing), and later calls go
    through the view."""
    before = tmp_path / "migrations"
    before.mkdir()
    for f in MIGRATIONS.glob("*.sql"):
        if int(f.name[:4]) < 19:
            shutil.copy(f, before / f.name)
    migrate(store, before)
    world, truth, streamed = world_and_calls()
    insert_world(store, world)
    insert_calls(store, streamed[:4000])
    assert migrate(store)[0] == 19  # and any later version
    filled = store.query_rows("SELECT sum(calls) FROM ntjp_calls_monthly")[0][0]
    assert filled == store.query_rows("SELECT sum(calls) FROM ntjp_calls_daily")[0][0] > 0
    # the fill again (a crash before the version was recorded) adds nothing
    store.command("DELETE FROM schema_migrations WHERE version = 19")
    assert migrate(store) == [19]
    assert store.query_rows("SELECT sum(calls) FROM ntjp_calls_monthly")[0][0] == filled
    insert_calls(store, streamed[4000:], first=4000)
    apply_files(store, tmp_path / "drop", truth)
    check_every_report(store, world, counted_input(truth, streamed))


def test_a_catalogue_change_moves_the_whole_history_at_once(store: ClickHouseStore,
                                                           tmp_path: Path) -> None:  # fmt: skip
    migrate(store)
    world, truth, streamed = world_and_calls()
    insert_world(store, world)
    insert_calls(store, streamed)
    apply_files(store, tmp_path / "drop", truth)
    mover = next(u for u in world.units if u["kind"] == "unit")
    moved = {**mover, "county_code": "25" if mover["county_code"] != "25" else "01",
             "updated_at": "2024-12-01T00:00:00Z"}  # fmt: skip
    gone = next(u for u in world.units if u["kind"] == "unit" and u is not mover)
    store.insert_columns("hsa_units", {
        "hsa_id": [moved["hsa_id"], gone["hsa_id"]], "name": [moved["name"], ""],
        "kind": ["unit", "unit"], "care_provider_id": [moved["care_provider_id"], ""],
        "county_code": [moved["county_code"], ""],
        "updated_at": [dt.datetime(2024, 12, 1, tzinfo=dt.UTC)] * 2,
        "deleted": [0, 1], "version": [10_000, 10_001],
    })  # fmt: skip
    tomb = {"hsa_id": gone["hsa_id"], "deleted": True}
    units = world.units + world.unit_moves + [moved, tomb]
    check_every_report(store, world, counted_input(truth, streamed), units)


def test_a_backfill_from_raw_rebuilds_the_months(store: ClickHouseStore, tmp_path: Path,
                                                 store_settings: Callable[..., Settings]
                                                 ) -> None:  # fmt: skip
    """The monthly rollup is one of the raw table's view targets: backfill
    swaps it with the others, rebuilt from the raw rows (a rollup that had
    drifted is exact again), and the files still stand."""
    from streams import backfill
    from tests.integration.test_backfill_reconciled_sob import SETTINGS, from_raw

    SETTINGS[id(store)] = store_settings("monthly", tmp_path / "home")
    migrate(store)
    views = store.query_rows(
        "SELECT name, create_table_query FROM system.tables "
        "WHERE database = currentDatabase() AND engine = 'MaterializedView'"
    )
    assert "ntjp_calls_monthly" in backfill.family_of("ntjp_calls", views)
    world, truth, streamed = world_and_calls()
    insert_world(store, world)
    insert_calls(store, streamed)
    apply_files(store, tmp_path / "drop", truth)
    store.command("INSERT INTO ntjp_calls_monthly VALUES ('2024-03-01', 'MakeBooking', 'SE1', 5)")
    from sinks.ntjp import CALLS_TABLE

    from_raw(store, "calls-test", CALLS_TABLE)
    assert store.query_rows("SELECT sum(calls) FROM ntjp_calls_monthly") == store.query_rows(
        "SELECT sum(calls) FROM ntjp_calls_daily"
    )
    check_every_report(store, world, counted_input(truth, streamed))
