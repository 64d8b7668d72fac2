"""The 1177 e-services case rollup the reports read (migration 0020,
sinks/etj_rollups.py) on real chDB: a late first event moves a case to its
unit, type and days; batches in any order and re-delivered answer as a full
rebuild and as the per-case facts do; overdue needs an event in the period
even when a case's events leave gaps; a crash between a batch's rows and its
recompute is healed by the batch Kafka delivers again."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from reports import engine
from reports.etj import period_end
from schemas.etj import EtjCase, EtjLogin
from schemas.pipeline import Decoded, RawMessage
from sinks import etj_rollups
from sinks.clickhouse import ClickHouseStore
from sinks.etj import CASES_TABLE, LOGINS_TABLE, case_columns
from sinks.events import EventSink, EventTable
from sinks.migrate import migrate
from streams import backfill

SERVICE = "e-tjanster"
UNITS = ("U1", "U2")
REPORTS = ("cases-per-unit", "cases-per-case-type", "case-status", "handling-times")


SETTINGS: dict[int, Settings] = {}


@pytest.fixture
def store(tmp_path: Path, store_settings: Callable[..., Settings]) -> Iterator[ClickHouseStore]:
    settings = store_settings("etjrollups", tmp_path / "home")
    s = ClickHouseStore(settings)
    SETTINGS[id(s)] = settings
    try:
        migrate(s)
        s.insert_columns("etj_units", {
            "unit_id": list(UNITS), "name": ["Ett", "Två"], "care_provider_id": ["CP", "CP"],
            "county_code": ["01", "12"], "care_type": ["primarvard", "primarvard"],
            "activated_on": [dt.date(2012, 1, 1)] * 2, "active": [1, 1],
            "case_types": [[("boka-tid", "standard", 1)]] * 2, "deleted": [0, 0],
            "version": [1, 1],
        })  # fmt: skip
        yield s
    finally:
        s.close()


def ev(eid: str, case: str, event: str, when: str, unit: str = "U1",
       case_type: str = "boka-tid") -> EtjCase:  # fmt: skip
    fields: dict[str, Any] = {
        "case_type_kind": "standard" if case_type == "boka-tid" else "own", "event": event,
    }  # fmt: skip
    return EtjCase(event_id=eid, occurred_at=dt.datetime.fromisoformat(when), case_id=case,
                   unit_id=unit, case_type=case_type, **fields)  # fmt: skip


def write(store: ClickHouseStore, events: list[Any], first: int = 0,
          table: EventTable[Any] = CASES_TABLE) -> None:  # fmt: skip
    """One batch through the sink, as the ingest loop writes it."""
    batch: Decoded[Any] = Decoded("etj", 0, first + len(events), first)
    batch.accepted = [
        (RawMessage("etj", 0, first + i, None, None), e) for i, e in enumerate(events)
    ]
    EventSink(store, table).write(batch, {})


def from_raw(store: ClickHouseStore, table: EventTable[Any]) -> None:
    """`statflow backfill TOPIC --from-raw`: the tables swapped, the rollups rebuilt."""
    topic = f"{table.table}-test"
    backfill.REPLAYABLE[topic] = backfill.Replayable(lambda b: b, table, _no_lookup)
    progress = backfill.Progress(topic)
    asyncio.run(backfill.run(SETTINGS[id(store)], store, topic, progress, source="raw"))
    assert progress.state == "done"


async def _no_lookup(_: Any) -> dict[str, str]:
    return {}


def answer(store: ClickHouseStore, report: str, f: str = "2024-01-01", t: str = "2024-03-31",
           **filters: str) -> Any:  # fmt: skip
    pairs = [("from", f), ("to", t), *filters.items()]
    return engine.run(SERVICE, report, pairs, store).rows


def test_a_late_first_event_moves_the_case_to_its_unit_type_and_day(
    store: ClickHouseStore,
) -> None:
    write(store, [ev("a1", "A", "received", "2024-02-10T09:00:00+01:00"),
                  ev("a2", "A", "closed", "2024-03-05T09:00:00+01:00")])  # fmt: skip
    assert answer(store, "cases-per-unit") == [["U1", "Ett", 1, 0, 1]]
    # Arrives late: an earlier receipt, 23:30 UTC on 31 January = 1 February in
    # Stockholm, naming another unit and type (the first event names them).
    write(store, [ev("a0", "A", "received", "2024-01-31T23:30:00+00:00", "U2", "egen")], 2)
    assert answer(store, "cases-per-unit") == [["U2", "Två", 1, 0, 1]]
    assert answer(store, "cases-per-unit", "2024-01-01", "2024-01-31") == []
    assert answer(store, "cases-per-unit", "2024-02-01", "2024-02-29") == [["U2", "Två", 1, 0, 0]]
    types = {r[0]: r[2:] for r in answer(store, "cases-per-case-type")}
    assert types["boka-tid"] == [0, 0] and types["egen"] == [1, 1]
    per_day = store.query_rows(
        "SELECT day, kind, unit_id, sum(n) FROM etj_cases_daily WHERE kind IN ('r', 'c') "
        "AND (day, version) IN (SELECT day, max(version) FROM etj_cases_daily GROUP BY day) "
        "GROUP BY day, kind, unit_id ORDER BY day, kind"
    )
    assert per_day == [
        (dt.date(2024, 2, 1), "r", "U2", 1),
        (dt.date(2024, 3, 5), "c", "U2", 1),
    ]  # the 10 February receipt is gone from its day, not only outweighed
    # received 1 Feb 00:30, closed 5 Mar 09:00: 33 days and 8.5 hours, one DST-free span
    hours = {r[0]: r for r in answer(store, "handling-times")}["egen"][7]
    assert hours == pytest.approx(33 * 24 + 8.5)


def test_overdue_counts_cases_with_an_event_in_the_period_across_gaps(
    store: ClickHouseStore,
) -> None:
    # Received 1 Feb, assigned 2 Feb, never answered: its events leave a gap
    # from 3 February to 19 March, when it is closed.
    write(store, [ev("b1", "B", "received", "2024-02-01T09:00:00+01:00"),
                  ev("b2", "B", "assigned", "2024-02-02T09:00:00+01:00"),
                  ev("b3", "B", "closed", "2024-03-20T09:00:00+01:00")])  # fmt: skip

    def overdue(f: str, t: str) -> int:
        rows = answer(store, "handling-times", f, t)
        return int(next(r[3] for r in rows if r[0] == "boka-tid"))

    assert overdue("2024-02-01", "2024-02-10") == 0  # 240 h not run out at its end
    assert overdue("2024-02-01", "2024-02-11") == 1  # due 11 Feb 09:00
    assert overdue("2024-02-12", "2024-03-19") == 0  # no event in the period
    assert overdue("2024-02-12", "2024-03-20") == 1
    assert overdue("2024-01-01", "2024-12-31") == 1  # once, over all its days
    status = answer(store, "case-status", "2024-02-01", "2024-02-29")
    assert status == [["U1", "Ett", 0, 1, 0, 1]]  # assigned in the period, closed after it
    assert answer(store, "case-status", "2024-02-01", "2024-03-31") == [["U1", "Ett", 0, 0, 1, 1]]


def _random_stream(seed: int) -> list[EtjCase]:
    rng = random.Random(seed)
    out = []
    kinds = ("received", "assigned", "started", "answered", "closed")
    for c in range(60):
        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=rng.randrange(2000))
        for k in range(rng.randrange(1, 7)):
            when = start + dt.timedelta(hours=rng.randrange(-100, 600), seconds=rng.randrange(60))
            out.append(ev(f"e{c}-{k}", f"C{c}", rng.choice(kinds), when.isoformat(),
                          rng.choice(UNITS), rng.choice(("boka-tid", "egen"))))  # fmt: skip
    return out


# The reports' definitions over the per-case facts (reports/etj_sql.py before
# the rollup), as the reference the rollup must equal.
_FACTS_STATUS = (
    "SELECT unit_id, countIf(NOT c AND NOT a AND r), countIf(NOT c AND a), countIf(c) FROM ("
    "SELECT unit_id, ifNull(received_on BETWEEN {f:Date} AND {t:Date}, 0) AS r, "
    "ifNull(assigned_on BETWEEN {f:Date} AND {t:Date}, 0) AS a, "
    "ifNull(closed_on BETWEEN {f:Date} AND {t:Date}, 0) AS c FROM etj_case_facts) "
    "WHERE r OR a OR c GROUP BY unit_id ORDER BY unit_id"
)
_FACTS_OVERDUE = (
    "SELECT case_type, countIf(arrayExists(d -> d BETWEEN {f:Date} AND {t:Date}, days) "
    "AND received_at IS NOT NULL AND addHours(received_at, 240) < {e:DateTime64(3, 'UTC')} "
    "AND NOT (ifNull(answered_at <= addHours(received_at, 240), 0) "
    "AND ifNull(closed_at <= addHours(received_at, 240), 0))) AS o "
    "FROM etj_case_facts GROUP BY case_type HAVING o > 0 ORDER BY case_type"
)


def test_any_order_and_redelivery_answer_as_a_full_rebuild_and_the_facts(
    store: ClickHouseStore,
) -> None:
    events = _random_stream(17)
    rng = random.Random(5)
    shuffled = events[:]
    rng.shuffle(shuffled)
    offset = 0
    while shuffled:
        n = rng.randrange(1, 12)
        batch, shuffled = shuffled[:n], shuffled[n:]
        if rng.random() < 0.3:
            batch = batch + rng.sample(events, 3)  # re-published copies
        write(store, batch, offset)
        offset += len(batch)
    periods = [("2024-01-01", "2024-12-31"), ("2024-02-01", "2024-02-29"),
               ("2024-03-10", "2024-03-31"), ("2024-01-15", "2024-01-15")]  # fmt: skip
    incremental = {(r, p): answer(store, r, *p) for r in REPORTS for p in periods}
    assert any(incremental[("cases-per-unit", periods[0])])
    etj_rollups.ROLLUP.rebuild(store)
    assert {(r, p): answer(store, r, *p) for r in REPORTS for p in periods} == incremental
    for f, t in periods:
        facts = store.query_rows(_FACTS_STATUS, {"f": f, "t": t})
        assert [r[2:5] for r in incremental[("case-status", (f, t))]] == [
            [int(x) for x in row[1:]] for row in facts
        ]
        end = period_end(dt.date.fromisoformat(t)).strftime("%Y-%m-%d %H:%M:%S")
        overdue = store.query_rows(_FACTS_OVERDUE, {"f": f, "t": t, "e": end})
        got = {r[0]: r[3] for r in incremental[("handling-times", (f, t))] if r[3]}
        assert got == {k: int(v) for k, v in overdue}


def test_a_crash_before_the_recompute_is_healed_by_the_redelivered_batch(
    store: ClickHouseStore,
) -> None:
    write(store, [ev("c1", "C", "received", "2024-02-10T09:00:00+01:00")])
    late = [ev("c0", "C", "received", "2024-01-15T09:00:00+01:00", "U2")]
    # What a worker killed at the fault point sink.before-derive leaves: the
    # batch's rows are in (with their seen ids), the rollup is not.
    store.insert_columns("etj_cases", case_columns([(RawMessage("etj", 0, 1, None, None),
                                                     late[0])], {}))  # fmt: skip
    assert answer(store, "cases-per-unit") == [["U1", "Ett", 1, 0, 0]]
    write(store, late, 1)  # Kafka delivers the batch again: all of it seen before
    assert answer(store, "cases-per-unit") == [["U2", "Två", 1, 0, 0]]
    assert answer(store, "cases-per-unit", "2024-02-01", "2024-02-29") == []


def test_a_stale_mark_left_by_a_killed_rebuild_is_healed(store: ClickHouseStore) -> None:
    write(store, [ev("d1", "D", "received", "2024-02-10T09:00:00+01:00")])
    CASES_TABLE.derived.mark_stale(store)  # type: ignore[union-attr]
    store.command("TRUNCATE TABLE etj_cases_daily")  # a swap whose rebuild never ran
    assert etj_rollups.ROLLUP.is_stale(store)
    assert etj_rollups.ROLLUP.heal(store)
    assert not etj_rollups.ROLLUP.is_stale(store) and not etj_rollups.ROLLUP.heal(store)
    assert answer(store, "cases-per-unit") == [["U1", "Ett", 1, 0, 0]]


def test_a_backfill_from_raw_rebuilds_the_case_rollup(store: ClickHouseStore) -> None:
    events = _random_stream(23)
    write(store, events[:150])
    write(store, events[150:], 150)
    want = {r: answer(store, r) for r in REPORTS}
    store.command("TRUNCATE TABLE etj_cases_daily")  # what the swap leaves behind it
    from_raw(store, CASES_TABLE)
    assert {r: answer(store, r) for r in REPORTS} == want


# --- accounts: the county runs -----------------------------------------------------

# The accounts report over the raw tables (reports/etj_sql.py before the runs).
_FACTS_ACCOUNTS = (
    "SELECT county, countIf(actor = 'resident'), countIf(actor = 'staff') FROM ("
    "SELECT a.actor AS actor, if(l.account_id = '' OR l.county = '', '00', l.county) AS county "
    "FROM (SELECT account_id, actor FROM etj_accounts FINAL WHERE deleted = 0 "
    "AND created_at < {e:DateTime64(3, 'UTC')} "
    "AND (deleted_at IS NULL OR deleted_at >= {e:DateTime64(3, 'UTC')})) AS a "
    "LEFT JOIN (SELECT account_id, argMax(county_code, (occurred_at, event_id)) AS county "
    "FROM etj_logins WHERE occurred_at < {e:DateTime64(3, 'UTC')} GROUP BY account_id) AS l "
    "ON a.account_id = l.account_id) GROUP BY county ORDER BY county"
)


def login(eid: str, account: str, when: dt.datetime, county: str | None) -> EtjLogin:
    return EtjLogin(event_id=eid, occurred_at=when, account_id=account, actor="resident",
                    method="bankid", county_code=county)  # type: ignore[arg-type]  # fmt: skip


def publish_accounts(store: ClickHouseStore, records: list[dict[str, Any]], first: int) -> None:
    """An accounts batch as the reference agent writes it (agents/reference.py)."""
    columns: dict[str, list[Any]] = {k: [] for k in
                                     ("account_id", "actor", "created_at", "deleted_at",
                                      "deleted", "version")}  # fmt: skip
    for i, r in enumerate(records):
        for k in ("account_id", "actor", "created_at", "deleted_at"):
            columns[k].append(r.get(k))
        columns["deleted"].append(int(r.get("deleted", 0)))
        columns["version"].append(first + i)
    store.insert_columns("etj_accounts", columns)
    etj_rollups.refresh_accounts(store, columns)


def test_accounts_follow_their_latest_login_in_any_order_and_deletion(
    store: ClickHouseStore,
) -> None:
    rng = random.Random(11)
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    accounts = [{"account_id": f"A{i}", "actor": rng.choice(("resident", "staff")),
                 "created_at": t0 + dt.timedelta(hours=rng.randrange(-500, 1500)),
                 "deleted_at": None} for i in range(40)]  # fmt: skip
    logins = [login(f"l{k}", f"A{rng.randrange(45)}",  # some name no account
                    t0 + dt.timedelta(hours=rng.randrange(0, 2200), minutes=rng.randrange(60)),
                    rng.choice(("01", "12", "12", None)))
              for k in range(400)]  # fmt: skip
    publish_accounts(store, accounts[:20], 0)
    rng.shuffle(logins)
    for k in range(0, len(logins), 37):
        write(store, logins[k : k + 37], k, LOGINS_TABLE)
    publish_accounts(store, accounts[20:], 20)
    # deleted later (re-published with deleted_at, one on a Stockholm midnight)
    gone = [{**accounts[3], "deleted_at": t0 + dt.timedelta(days=40)},
            {**accounts[7], "deleted_at": dt.datetime(2024, 2, 14, 23, tzinfo=dt.UTC)}]  # fmt: skip
    publish_accounts(store, gone, 100)
    publish_accounts(store, [{**accounts[9], "deleted": 1, "actor": "",
                              "created_at": dt.datetime(1970, 1, 1, tzinfo=dt.UTC)}], 200)  # fmt: skip

    def both(t: str) -> tuple[Any, Any]:
        got = answer(store, "accounts", "2023-01-01", t)
        e = period_end(dt.date.fromisoformat(t)).strftime("%Y-%m-%d %H:%M:%S")
        facts = {c: (int(r), int(s)) for c, r, s in store.query_rows(_FACTS_ACCOUNTS, {"e": e})}
        return {row[0]: (row[2] or 0, row[3]) for row in got if row[2] or row[3]}, facts

    ends = ("2023-12-20", "2024-01-15", "2024-02-14", "2024-02-15", "2024-03-31", "2024-12-31")
    for t in ends:
        got, facts = both(t)
        # resident counts 1-9 are withheld in the answer: compare the staff and the large
        assert {c: v[1] for c, v in got.items()} == {c: v[1] for c, v in facts.items() if v[1]}
        assert all(v[0] == facts[c][0] for c, v in got.items() if v[0]), t
    holding = (
        "SELECT r.3, count() FROM etj_account_runs FINAL ARRAY JOIN runs AS r "
        "WHERE r.1 <= {d:Date} AND r.2 > {d:Date} GROUP BY r.3 ORDER BY r.3"
    )
    runs = store.query_rows(holding, {"d": dt.date(2024, 3, 31)})
    e = period_end(dt.date(2024, 3, 31)).strftime("%Y-%m-%d %H:%M:%S")
    facts = store.query_rows(_FACTS_ACCOUNTS, {"e": e})
    assert [(c, int(n)) for c, n in runs] == [(c, int(r) + int(s)) for c, r, s in facts]
    assert {c for c, _ in runs} >= {"00", "12"}
    # the tombstoned account has no runs
    tomb = "SELECT runs FROM etj_account_runs FINAL WHERE account_id = 'A9'"
    assert store.query_rows(tomb) == [([],)]
    # rebuilt from what is stored, and from the raw logins by a backfill: the same
    etj_rollups.ACCOUNT_RUNS.rebuild(store)
    assert store.query_rows(holding, {"d": dt.date(2024, 3, 31)}) == runs
    store.command("TRUNCATE TABLE etj_account_runs")
    from_raw(store, LOGINS_TABLE)
    assert both("2024-03-31")[0] == {c: (r if r >= 10 else 0, s) for c, (r, s) in
                                     both("2024-03-31")[1].items() if r >= 10 or s}  # fmt: skip
