"""The moment lifecycle as ClickHouse keeps it (real chDB, no broker): first
Inprogress starts, first Done completes, whatever the arrival order and
however often a transaction is re-delivered."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pytest

from core.settings import Settings
from schemas.events import SobTransaction
from schemas.pipeline import RawMessage
from sinks.clickhouse import ClickHouseStore
from sinks.migrate import migrate
from sinks.sob import refresh_days, sob_columns

UTC = dt.UTC


@pytest.fixture
def store(store_settings: Callable[..., Settings]) -> ClickHouseStore:
    s = ClickHouseStore(store_settings("lifecycle"))
    migrate(s)
    return s


def tx(eid: str, case: str, status: str, when: str, by: str = "", **kw: Any) -> SobTransaction:
    return SobTransaction(
        event_id=eid, occurred_at=dt.datetime.fromisoformat(when), case_id=case,
        case_type=kw.pop("case_type", "Process"), status=status, process_name="P",
        moment_name="M", care_provider_id="CP", care_unit_id="U", practitioner_id=by or None,
        **kw,
    )  # fmt: skip


def insert(store: ClickHouseStore, events: list[SobTransaction]) -> None:
    rows = [(RawMessage("t", 0, i, None, None), e) for i, e in enumerate(events)]
    store.insert_columns("sob_transactions", sob_columns(rows, {}))
    refresh_days(store, events)  # what the sink does after a batch


def facts(store: ClickHouseStore) -> dict[str, tuple[Any, ...]]:
    rows = store.query_rows(
        "SELECT case_id, started_on, completed_on, started_by, completed_by, closing_reason "
        "FROM sob_moment_facts ORDER BY case_id"
    )
    return {r[0]: r[1:] for r in rows}


LIFE = [
    tx("a1", "c1", "Created", "2024-01-10T09:00:00+01:00"),
    tx("a2", "c1", "Inprogress", "2024-01-12T09:00:00+01:00", "p1"),
    tx("a3", "c1", "Paused", "2024-02-01T09:00:00+01:00", "p2"),
    tx("a4", "c1", "Inprogress", "2024-02-05T09:00:00+01:00", "p3"),
    tx("a5", "c1", "Done", "2024-03-03T09:00:00+01:00", "p4", closing_reason="Klar"),
    tx("a6", "c1", "Done", "2024-03-09T09:00:00+01:00", "p5", closing_reason="Igen"),
    # completed without a seen start; the Done falls in February in Stockholm
    tx("b1", "c2", "Done", "2024-01-31T23:30:00Z", "p6"),
    # not a moment: stored, never in the lifecycle
    tx("x1", "c3", "Inprogress", "2024-01-15T10:00:00Z", case_type="Meddelande"),
]


def test_lifecycle_is_the_same_in_any_order_and_with_redelivery(store: ClickHouseStore) -> None:
    shuffled = LIFE * 3
    random.Random(1).shuffle(shuffled)
    for i in range(0, len(shuffled), 4):
        insert(store, shuffled[i : i + 4])
    got = facts(store)
    assert got["c1"] == (dt.date(2024, 1, 12), dt.date(2024, 3, 3), "p1", "p4", "Klar")
    assert got["c2"] == (None, dt.date(2024, 2, 1), "", "p6", "")
    assert "c3" not in got
