"""The 1177 e-services case lifecycle as ClickHouse keeps it (real chDB, no
broker): the first event of each kind counts whatever the arrival order and
however often events are re-delivered, and the overdue rule holds at the
240-hour boundary across a DST change (exact elapsed hours, not wall clock)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.auth import Caller
from core.settings import Settings
from reports import engine
from schemas.etj import EtjCase
from schemas.pipeline import RawMessage
from sinks.clickhouse import ClickHouseStore
from sinks.etj import case_columns
from sinks.etj_rollups import refresh_days
from sinks.migrate import migrate

UNIT = "SE2321000016-ETJ001"
CP = "SE2321000016-ETJ0"


@pytest.fixture
def store(store_settings: Callable[..., Settings]) -> Iterator[ClickHouseStore]:
    # chDB holds one data path per process: close it, pass or fail.
    s = ClickHouseStore(store_settings("etj_life"))
    try:
        migrate(s)
        _unit(s)
        yield s
    finally:
        s.close()


def _unit(s: ClickHouseStore) -> None:
    s.insert_columns(
        "etj_units",
        {
            "unit_id": [UNIT],
            "name": ["Vårdcentralen Test"],
            "care_provider_id": [CP],
            "county_code": ["01"],
            "care_type": ["primarvard"],
            "activated_on": [dt.date(2012, 1, 1)],
            "active": [1],
            "case_types": [[("boka-tid", "standard", 1)]],
            "deleted": [0],
            "version": [1],
        },
    )


def ev(eid: str, case: str, event: str, when: str, assignee: str | None = None) -> EtjCase:
    return EtjCase(
        event_id=eid, occurred_at=dt.datetime.fromisoformat(when), case_id=case, unit_id=UNIT,
        case_type="boka-tid", case_type_kind="standard", event=event, assignee_id=assignee,
    )  # fmt: skip


def insert(store: ClickHouseStore, events: list[EtjCase]) -> None:
    rows = [(RawMessage("t", 0, i, None, None), e) for i, e in enumerate(events)]
    store.insert_columns("etj_cases", case_columns(rows, {}))
    refresh_days(store, events)  # what the sink does after a batch


def report(store: ClickHouseStore, report_id: str, date_from: str, date_to: str) -> Any:
    caller = Caller("t", (CP,)) if report_id == "unanswered-cases" else None
    pairs = [("from", date_from), ("to", date_to)]
    return engine.run("e-tjanster", report_id, pairs, store, caller=caller).to_json()


def test_first_event_of_each_kind_counts_in_any_order_and_repetition(
    store: ClickHouseStore,
) -> None:
    life = [
        ev("a1", "A", "received", "2024-01-30T09:00:00+01:00"),
        ev("a2", "A", "assigned", "2024-01-31T23:30:00+01:00", "SE-P1"),
        ev("a3", "A", "assigned", "2024-02-05T10:00:00+01:00", "SE-P2"),  # reassigned
        ev("a4", "A", "started", "2024-02-05T11:00:00+01:00"),
        ev("a5", "A", "closed", "2024-02-06T08:00:00+01:00"),
        ev("a6", "A", "closed", "2024-03-01T08:00:00+01:00"),  # repeated: stored, not counted
    ]
    shuffled = life[:]
    random.Random(3).shuffle(shuffled)
    insert(store, shuffled[:3])
    insert(store, shuffled[3:])
    insert(store, shuffled[::2])  # re-delivered in another block

    jan = report(store, "cases-per-unit", "2024-01-01", "2024-01-31")
    assert jan["rows"] == [[UNIT, "Vårdcentralen Test", 1, 1, 0]]
    feb = report(store, "cases-per-unit", "2024-02-01", "2024-02-29")
    assert feb["rows"] == [[UNIT, "Vårdcentralen Test", 0, 0, 1]]
    assert report(store, "cases-per-unit", "2024-03-01", "2024-03-31")["rows"] == []
    status = report(store, "case-status", "2024-01-01", "2024-02-29")
    assert status["rows"] == [[UNIT, "Vårdcentralen Test", 0, 0, 1, 1]]
    times = {r[0]: r for r in report(store, "handling-times", "2024-02-01", "2024-02-29")["rows"]}
    # the first assignment (31 Jan) is not in February: no received->assigned average
    assert times["boka-tid"][4] is None
    # first assigned 31 Jan 23:30 -> started 5 Feb 11:00; started -> closed 6 Feb 08:00
    assert times["boka-tid"][5:8] == [pytest.approx(107.5), pytest.approx(21.0),
                                      pytest.approx(167.0)]  # fmt: skip


def test_overdue_at_the_240_hour_boundary_across_spring_dst(store: ClickHouseStore) -> None:
    # Received 22 March 12:00 CET; 240 hours later is 1 April 13:00 CEST, not
    # 12:00: the clocks went forward on 31 March.
    r = "2024-03-22T12:00:00+01:00"
    insert(
        store,
        [
            # answered and closed exactly at the limit: in time
            ev("b1", "B", "received", r),
            ev("b2", "B", "answered", "2024-04-01T12:30:00+02:00"),
            ev("b3", "B", "closed", "2024-04-01T13:00:00+02:00"),
            # closed one millisecond after the limit: overdue
            ev("c1", "C", "received", r),
            ev("c2", "C", "answered", "2024-04-01T12:00:00+02:00"),
            ev("c3", "C", "closed", "2024-04-01T13:00:00.001+02:00"),
            # closed in time without an answer: overdue (closing does not stop the answer clock)
            ev("d1", "D", "received", r),
            ev("d2", "D", "closed", "2024-03-25T10:00:00+01:00"),
            # never answered, still open
            ev("e1", "E", "received", r),
            ev("e2", "E", "assigned", "2024-03-23T08:00:00+01:00", "SE-P1"),
            ev("e3", "E", "assigned", "2024-03-24T08:00:00+01:00", "SE-P2"),
        ],
    )

    def overdue(date_to: str) -> int:
        rows = report(store, "handling-times", "2024-03-01", date_to)["rows"]
        return int(next(row[3] for row in rows if row[0] == "boka-tid"))

    # At the end of 31 March the 240 hours have not run out for anyone.
    assert overdue("2024-03-31") == 0
    # At the end of 1 April they have (limit 1 April 13:00 CEST): C, D, E.
    assert overdue("2024-04-01") == 3

    def unanswered(date_to: str) -> list[str]:
        return [row[2] for row in report(store, "unanswered-cases", "2024-03-01", date_to)["rows"]]

    # D was closed, B and C answered; E is open and unanswered past the limit.
    assert unanswered("2024-03-31") == []
    assert unanswered("2024-04-01") == ["E"]
    row = report(store, "unanswered-cases", "2024-03-01", "2024-04-01")["rows"][0]
    assert row[4:7] == ["2024-03-22T12:00:00+01:00", "2024-03-23T08:00:00+01:00", "SE-P2"]


def test_exactly_240_hours_before_the_end_is_not_yet_unanswered(store: ClickHouseStore) -> None:
    # The end of 27 October 2024 (a 25-hour day) is 28 Oct 00:00 CET = 23:00Z on the 27th.
    end = dt.datetime(2024, 10, 27, 23, 0, tzinfo=dt.UTC)
    exactly = (end - dt.timedelta(hours=240)).isoformat()
    more = (end - dt.timedelta(hours=240, milliseconds=1)).isoformat()
    insert(store, [ev("f1", "F", "received", exactly), ev("g1", "G", "received", more)])
    rows = report(store, "unanswered-cases", "2024-10-01", "2024-10-27")["rows"]
    assert [r[2] for r in rows] == ["G"]
