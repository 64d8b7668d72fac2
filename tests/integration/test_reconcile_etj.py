"""The 1177 e-services nightly file against the stream (real chDB, no broker):
a matching file changes nothing, a differing one is recorded and every
e-tjanster answer covering its day carries the note; the same file twice is
one application; a bad file is quarantined whole with a row report."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from core.settings import Settings
from reconcile.apply import Outcome, apply_dir, discrepancies
from reports import engine
from schemas.etj import case_decoder
from schemas.pipeline import RawMessage
from sinks.clickhouse import ClickHouseStore
from sinks.etj import case_columns
from sinks.migrate import migrate

DAY = dt.date(2024, 3, 31)  # a 23-hour day: its events still belong to it


@pytest.fixture
def store(tmp_path: Path, store_settings: Callable[..., Settings]) -> Iterator[ClickHouseStore]:
    s = ClickHouseStore(store_settings("etj_rec", tmp_path / "home"))
    try:
        migrate(s)
        yield s
    finally:
        s.close()


def events() -> list[dict[str, object]]:
    out = []
    for i, (when, event) in enumerate([
        ("2024-03-31T00:10:00+01:00", "received"),  # 23:10Z on the 30th: still the 31st
        ("2024-03-31T10:00:00+02:00", "received"),
        ("2024-03-31T23:59:00+02:00", "assigned"),
        ("2024-04-01T00:00:00+02:00", "received"),  # the next day
    ]):  # fmt: skip
        out.append({"event_id": f"e{i}", "occurred_at": when, "case_id": f"c{i}",
                    "unit_id": "U1", "case_type": "boka-tid", "case_type_kind": "standard",
                    "event": event})  # fmt: skip
    return out


def drop_file(drop: Path, name: str, body: str) -> Path:
    path = drop / "etj" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    old = time.time() - 60  # not a file still being written
    os.utime(path, (old, old))
    return path


def new(store: ClickHouseStore, drop: Path) -> list[Outcome]:
    return [o for o in apply_dir(store, drop) if o.status != "unchanged"]


def notes(store: ClickHouseStore, day: dt.date) -> list[str]:
    pairs = [("from", day.isoformat()), ("to", day.isoformat())]
    return engine.run("e-tjanster", "cases-per-unit", pairs, store).notes


def test_a_file_is_compared_with_the_stream(store: ClickHouseStore, tmp_path: Path) -> None:
    decode = case_decoder(1 << 20)
    msgs = [RawMessage("t", 0, i, None, orjson.dumps(e)) for i, e in enumerate(events())]
    store.insert_columns("etj_cases", case_columns([(m, decode(m.value)) for m in msgs], {}))
    drop = tmp_path / "drop"
    header = "date,unit_id,case_type,event,count\n"
    drop_file(drop, "cases-2024-03-31.csv",
              header + "2024-03-31,U1,boka-tid,received,2\n2024-03-31,U1,boka-tid,assigned,1\n")  # fmt: skip
    [same] = new(store, drop)
    assert (same.status, same.corrected) == ("applied", 0)
    assert not notes(store, DAY) and not discrepancies(store)

    drop_file(drop, "cases-2024-04-01.csv",
              header + "2024-04-01,U1,boka-tid,received,3\n2024-04-01,U2,remiss,closed,1\n")  # fmt: skip
    [differs] = new(store, drop)
    assert (differs.status, differs.corrected) == ("applied", 2)
    [note] = notes(store, dt.date(2024, 4, 1))
    assert "3 händelser i filen saknas i strömmen" in note and "etj/cases-2024-04-01.csv" in note
    assert not notes(store, DAY)
    [row] = discrepancies(store)
    assert (row["day"], row["stream"], row["file_says"]) == (dt.date(2024, 4, 1), 1, 4)
    assert new(store, drop) == []  # the same files again change nothing
    assert len(notes(store, dt.date(2024, 4, 1))) == 1

    bad = drop_file(drop, "cases-2024-04-02.csv", header + "2024-04-02,U1,boka-tid,opened,1\n")
    [quarantined] = new(store, drop)
    assert quarantined.status == "quarantined" and not bad.exists()
    report = orjson.loads((drop / "quarantine/etj/cases-2024-04-02.csv.report.json").read_bytes())
    assert report["problems"][0]["row"] == 2 and "opened" in report["problems"][0]["reason"]
