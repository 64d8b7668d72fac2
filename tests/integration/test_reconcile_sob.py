"""The monthly SOB case file against the stream (real chDB, no broker): the
transitions the stream missed are filled in, so started/completed/ongoing
match the file's cases; a case that disagrees is reported, never changed; a
second run of the same file (a worker killed before it recorded the file)
fills nothing twice."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from reconcile import sob
from reconcile.apply import apply_dir, discrepancies
from reconcile.files import parse_sob_cases
from reports import engine
from schemas.events import SobTransaction
from schemas.pipeline import RawMessage
from sinks.clickhouse import ClickHouseStore
from sinks.migrate import migrate
from sinks.sob import refresh_days, sob_columns

HEADER = ("case_id,case_type,process_name,moment_name,care_provider_id,care_unit_id,"
          "started_at,completed_at,closing_reason\n")  # fmt: skip


@pytest.fixture
def store(tmp_path: Path, store_settings: Callable[..., Settings]) -> Iterator[ClickHouseStore]:
    s = ClickHouseStore(store_settings("sob_rec", tmp_path / "home"))
    try:
        migrate(s)
        yield s
    finally:
        s.close()


def tx(eid: str, case: str, status: str, when: str) -> SobTransaction:
    return SobTransaction(
        event_id=eid, occurred_at=dt.datetime.fromisoformat(when), case_id=case,
        case_type="Process", status=status, process_name="P", moment_name="M",
        care_provider_id="CP", care_unit_id="U", patient_id=None,
    )  # fmt: skip


def row(case: str, started: str, completed: str = "", kind: str = "Process") -> str:
    return f"{case},{kind},P,M,CP,U,{started},{completed},{'Klar' if completed else ''}\n"


def month(store: ClickHouseStore, report: str) -> list[list[Any]]:
    pairs = [("from", "2024-01-01"), ("to", "2024-01-31")]
    return engine.run("stod-och-behandling", report, pairs, store).rows


def test_a_month_file_fills_what_the_stream_missed(store: ClickHouseStore, tmp_path: Path) -> None:
    streamed = [
        tx("a1", "A", "Inprogress", "2024-01-10T09:00:00+01:00"),  # its Done was lost
        tx("c1", "C", "Inprogress", "2024-01-03T09:00:00+01:00"),  # the file says the 4th
        tx("d1", "D", "Inprogress", "2024-01-08T09:00:00+01:00"),  # not in the file
    ]
    msgs = [(RawMessage("t", 0, i, None, None), e) for i, e in enumerate(streamed)]
    store.insert_columns("sob_transactions", sob_columns(msgs, {}))
    refresh_days(store, streamed)  # what the sink does after a batch
    assert month(store, "moments-per-month") == [["2024-01", 3, 0, 0]]

    body = HEADER + row("A", "2024-01-10T09:00:00+01:00", "2024-01-20T10:00:00+01:00")
    body += row("B", "2024-01-05T12:00:00+01:00")  # the stream lost the whole case
    body += row("C", "2024-01-04T09:00:00+01:00")
    body += row("E", "2024-01-06T09:00:00+01:00", kind="Message")  # not a moment
    path = tmp_path / "drop" / "sob" / "cases-2024-01.csv"
    path.parent.mkdir(parents=True)
    path.write_text(body, encoding="utf-8")
    os.utime(path, (time.time() - 60, time.time() - 60))

    # A run that dies after the fill, before the file is recorded, then the real one.
    parsed = parse_sob_cases("sob/cases-2024-01.csv", body.encode())
    end = dt.datetime(2024, 1, 31, 23, tzinfo=dt.UTC)
    assert sob.apply(store, parsed, end) == 2
    [outcome] = apply_dir(store, tmp_path / "drop")
    assert (outcome.status, outcome.corrected) == ("applied", 2)

    assert month(store, "moments-per-month") == [["2024-01", 4, 1, 0]]
    assert month(store, "ongoing-over-time") == [["2024-01", 3]]  # B, C, D
    reported = store.query_rows("SELECT case_id, issue FROM sob_reconciliation FINAL ORDER BY 1")
    assert reported == [("C", "start differs from the stream"),
                        ("D", "in the stream but not in the file")]  # fmt: skip
    [listed] = [d for d in discrepancies(store) if d.get("service") == "stod-och-behandling"]
    assert (listed["file_cases"], listed["transitions_filled"], listed["cases_reported"]) == (
        4,
        2,
        2,
    )
    assert [o.status for o in apply_dir(store, tmp_path / "drop")] == ["unchanged"]
    assert month(store, "moments-per-month") == [["2024-01", 4, 1, 0]]


def test_a_bad_row_applies_nothing(store: ClickHouseStore, tmp_path: Path) -> None:
    body = HEADER + row("A", "2024-01-10T09:00:00+01:00") + row("B", "2024-02-02T09:00:00+01:00")
    path = tmp_path / "drop" / "sob" / "cases-2024-01.csv"
    path.parent.mkdir(parents=True)
    path.write_text(body, encoding="utf-8")
    os.utime(path, (time.time() - 60, time.time() - 60))
    [outcome] = apply_dir(store, tmp_path / "drop")
    assert outcome.status == "quarantined"
    assert store.query_rows("SELECT count() FROM sob_transactions")[0][0] == 0
    report = (tmp_path / "drop/quarantine/sob/cases-2024-01.csv.report.json").read_text()
    assert '"row": 3' in report and "after the file's month" in report
