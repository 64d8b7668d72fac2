"""Issue 23 on real chDB (no broker): a backfill from the raw table keeps the
transitions a SOB month file filled in and a calls file's counts; reference
files are not undone by their topic's records read again; a calls file an
older version applied is adopted without a day reading differently."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from reconcile.apply import apply_dir
from schemas.pipeline import RawMessage
from sinks.clickhouse import ClickHouseStore
from sinks.migrate import migrate
from sinks.ntjp import CALLS_TABLE
from sinks.sob import SOB_TABLE, refresh_days, sob_columns
from streams import backfill
from tests.integration.test_reconcile_sob import HEADER, month, row, tx

SETTINGS: dict[int, Settings] = {}


@pytest.fixture
def store(tmp_path: Path, store_settings: Callable[..., Settings]) -> Iterator[ClickHouseStore]:
    settings = store_settings("bf_rec", tmp_path / "home")
    s = ClickHouseStore(settings)
    SETTINGS[id(s)] = settings
    try:
        migrate(s)
        yield s
    finally:
        s.close()


def from_raw(store: ClickHouseStore, topic: str, table: Any) -> None:
    backfill.REPLAYABLE[topic] = backfill.Replayable(lambda b: b, table, _no_lookup)
    progress = backfill.Progress(topic)
    asyncio.run(backfill.run(SETTINGS[id(store)], store, topic, progress, source="raw"))
    assert progress.state == "done"


async def _no_lookup(_: Any) -> dict[str, str]:
    return {}


def drop_file(drop: Path, name: str, body: str) -> None:
    path = drop / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    os.utime(path, (time.time() - 60, time.time() - 60))


def test_sob_fills_survive_a_backfill_from_raw(store: ClickHouseStore, tmp_path: Path) -> None:
    streamed = [tx("a1", "A", "Inprogress", "2024-01-10T09:00:00+01:00"),
                tx("d1", "D", "Inprogress", "2024-01-08T09:00:00+01:00")]  # fmt: skip
    msgs = [(RawMessage("t", 0, i, None, None), e) for i, e in enumerate(streamed)]
    store.insert_columns("sob_transactions", sob_columns(msgs, {}))
    refresh_days(store, streamed)  # what the sink does after a batch
    body = HEADER + row("A", "2024-01-10T09:00:00+01:00", "2024-01-20T10:00:00+01:00")
    body += row("B", "2024-01-05T12:00:00+01:00") + row("D", "2024-01-08T09:00:00+01:00")
    drop_file(tmp_path / "drop", "sob/cases-2024-01.csv", body)
    [outcome] = apply_dir(store, tmp_path / "drop")
    assert outcome.status == "applied"
    want = month(store, "moments-per-month"), month(store, "ongoing-over-time")
    assert want[0] == [["2024-01", 3, 1, 0]]
    from_raw(store, "sob-test", SOB_TABLE)
    assert (month(store, "moments-per-month"), month(store, "ongoing-over-time")) == want


def test_a_calls_file_stands_after_a_backfill_from_raw(store: ClickHouseStore,
                                                       tmp_path: Path) -> None:  # fmt: skip
    day = dt.date(2024, 5, 14)
    at = dt.datetime(2024, 5, 14, 10, tzinfo=dt.UTC)
    n = 3
    store.insert_columns("ntjp_calls", {
        "event_id": [f"e{i}" for i in range(n)], "occurred_at": [at] * n,
        "operation": ["MakeBooking"] * n, "logical_address": ["SE1"] * n,
        "consumer_id": [""] * n, "status": ["ok"] * n, "county_at_ingest": [""] * n,
        "source_partition": [0] * n, "source_offset": list(range(n)), "calls": [1] * n,
    })  # fmt: skip
    drop_file(tmp_path / "drop", "ntjp/calls-2024-05-14.csv",
              "date,logical_address,operation,count\n2024-05-14,SE1,MakeBooking,5\n")  # fmt: skip

    def counted() -> list[tuple[Any, ...]]:
        return store.query_rows(
            "SELECT day, logical_address, operation, sum(calls) FROM calls_counted "
            "GROUP BY day, logical_address, operation"
        )

    assert counted() == [(day, "SE1", "MakeBooking", 3)]
    [outcome] = apply_dir(store, tmp_path / "drop")
    assert outcome.status == "applied"
    assert counted() == [(day, "SE1", "MakeBooking", 5)]
    from_raw(store, "calls-test", CALLS_TABLE)
    assert counted() == [(day, "SE1", "MakeBooking", 5)]


def test_a_reference_file_is_not_undone_by_records_read_again(store: ClickHouseStore,
                                                              tmp_path: Path) -> None:  # fmt: skip
    """An HSA file moves a unit; the topic's older records read again (Faust
    re-delivers what it had not committed, a consumer group starts over) leave
    the move standing; a record written after the file still wins."""
    import orjson

    from schemas.topics import DECODERS
    from sinks.dimensions import units

    decode = DECODERS["hsa.units.v1"](1 << 20)

    def unit(county: str, name: str = "Enhet") -> bytes:
        return orjson.dumps({"hsa_id": "SE-U1", "name": name, "kind": "unit",
                             "care_provider_id": "SE-CP", "county_code": county,
                             "updated_at": "2024-01-01T00:00:00Z"})  # fmt: skip

    def stream(offset: int, value: bytes) -> None:
        batch = units([RawMessage("hsa.units.v1", 0, offset, b"SE-U1", value)], decode)
        store.insert_columns("hsa_units", batch.columns)

    def county() -> list[tuple[Any, ...]]:
        return store.query_rows(
            "SELECT county_code FROM hsa_units FINAL WHERE deleted = 0 AND hsa_id = 'SE-U1'"
        )

    stream(3, unit("01"))
    stream(5, unit("01", "Enhet B"))
    drop_file(tmp_path / "drop", "hsa/units-2024-05-01.csv",
              "hsa_id,name,kind,care_provider_id,county_code,updated_at\r\n"
              "SE-U1,Enhet,unit,SE-CP,12,2024-05-01T00:00:00Z\r\n")  # fmt: skip
    [outcome] = apply_dir(store, tmp_path / "drop")
    assert outcome.status == "applied" and county() == [("12",)]
    stream(3, unit("01"))  # read again from before the file
    stream(5, unit("01", "Enhet B"))
    assert county() == [("12",)]
    stream(9, unit("14"))  # a record written after the file
    assert county() == [("14",)]

    # files over no new record keep their version: the next record still wins
    for day, moved in (("2024-05-02", "03"), ("2024-05-03", "05")):
        drop_file(tmp_path / "drop", f"hsa/units-{day}.csv",
                  "hsa_id,name,kind,care_provider_id,county_code,updated_at\r\n"
                  f"SE-U1,Enhet,unit,SE-CP,{moved},2024-05-01T00:00:00Z\r\n")  # fmt: skip
        assert [o.status for o in apply_dir(store, tmp_path / "drop")][-1] == "applied"
        assert county() == [(moved,)]
    stream(9, unit("14"))  # read again
    assert county() == [("05",)]
    stream(10, unit("07"))  # the next record of the partition
    assert county() == [("07",)]


def test_a_calls_file_an_older_version_applied_is_adopted(store: ClickHouseStore,
                                                          tmp_path: Path) -> None:  # fmt: skip
    """A file applied before migration 0012 (correction rows, late calls at 0):
    the day reads as before, then its sums become its counts, so a replay of
    the stream rows no longer changes it."""
    from sinks.ntjp_files import adopt_legacy

    day = dt.date(2024, 5, 15)
    at = dt.datetime(2024, 5, 15, 10, tzinfo=dt.UTC)

    def rows(ids: list[str], calls: list[int], source: str = "stream") -> None:
        n = len(ids)
        store.insert_columns("ntjp_calls", {
            "event_id": ids, "occurred_at": [at] * n, "operation": ["MakeBooking"] * n,
            "logical_address": ["SE1"] * n, "consumer_id": [""] * n, "status": ["ok"] * n,
            "county_at_ingest": [""] * n, "source_partition": [0] * n,
            "source_offset": list(range(n)), "calls": calls, "source": [source] * n,
        })  # fmt: skip

    rows([f"e{i}" for i in range(4)], [1] * 4)  # the stream said 4
    rows(["file:abc:SE1:MakeBooking"], [-3], "file:ntjp/calls-2024-05-15.csv")  # file: 1
    rows(["late"], [0])  # a late call, held at 0 by the older version
    store.insert_columns("reconciliation_files", {
        "sha256": ["abc"], "name": ["ntjp/calls-2024-05-15.csv"], "kind": ["ntjp/calls"],
        "day": [day], "status": ["applied"], "rows": [1], "corrected": [1], "report": [""],
    })  # fmt: skip

    def counted() -> list[tuple[Any, ...]]:
        return store.query_rows("SELECT sum(calls) FROM calls_counted WHERE day = {d:Date}",
                                {"d": day})  # fmt: skip

    assert counted() == [(1,)]
    assert adopt_legacy(store) == 1 and adopt_legacy(store) == 0
    assert counted() == [(1,)]
    rows(["e9"], [1])  # more stream rows for the day, as a replay would write
    assert counted() == [(1,)]


def test_the_listing_shows_an_etj_days_whole_stream_and_file(store: ClickHouseStore,
                                                             tmp_path: Path) -> None:  # fmt: skip
    import orjson

    from reconcile.apply import discrepancies
    from schemas.etj import case_decoder
    from sinks.etj import case_columns

    decode = case_decoder(1 << 20)
    events = [("received", "c1"), ("received", "c2"), ("assigned", "c1")]
    msgs = [RawMessage("t", 0, i, None, orjson.dumps({
        "event_id": f"e{i}", "occurred_at": "2024-04-01T10:00:00+02:00", "case_id": case,
        "unit_id": "U1", "case_type": "boka-tid", "case_type_kind": "standard", "event": event,
    })) for i, (event, case) in enumerate(events)]  # fmt: skip
    store.insert_columns("etj_cases", case_columns([(m, decode(m.value)) for m in msgs], {}))
    drop_file(tmp_path / "drop", "etj/cases-2024-04-01.csv",
              "date,unit_id,case_type,event,count\n2024-04-01,U1,boka-tid,received,2\n"
              "2024-04-01,U1,boka-tid,assigned,1\n2024-04-01,U2,remiss,closed,3\n")  # fmt: skip
    [outcome] = apply_dir(store, tmp_path / "drop")
    assert (outcome.status, outcome.corrected) == ("applied", 1)
    [day] = [d for d in discrepancies(store, with_rows=True) if d.get("service") == "e-tjanster"]
    assert (day["stream"], day["file_says"], day["rows_corrected"]) == (3, 6, 1)
    assert day["rows"] == [{"unit_id": "U2", "case_type": "remiss", "event": "closed",
                            "stream": 0, "file_says": 3, "correction": 0}]  # fmt: skip
