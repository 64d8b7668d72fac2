"""Reference file drops on real chDB: a full catalogue replaces the dimension
atomically (concurrent readers see the old one or the new one, never a mix),
re-applying is a no-op, and one bad row quarantines the file."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.settings import Settings
from reconcile.apply import apply_dir
from sinks.clickhouse import ClickHouseStore
from sinks.migrate import migrate

HEADER = "hsa_id,name,kind,care_provider_id,county_code,updated_at"


@pytest.fixture
def store(store_settings: Callable[..., Settings]) -> ClickHouseStore:
    s = ClickHouseStore(store_settings("reference_files"))
    migrate(s)
    return s


def catalogue(drop: Path, day: str, n: int, county: str) -> Path:
    path = drop / "hsa" / f"units-{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [HEADER, f"SE-CP,Region,care_provider,,{county},2024-01-01T00:00:00Z"]
    rows += [f"SE-U{i},Enhet {i},unit,SE-CP,{county},2024-01-01T00:00:00Z" for i in range(n)]
    path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    old = time.time() - 60  # written a minute ago: not still growing
    os.utime(path, (old, old))
    return path


def test_catalogue_swap_is_atomic_under_concurrent_queries(store: ClickHouseStore,
                                                           tmp_path: Path) -> None:  # fmt: skip
    drop = tmp_path / "drop"
    catalogue(drop, "2024-05-01", 500, "01")
    assert [o.status for o in apply_dir(store, drop)] == ["applied"]
    seen: set[tuple[int, int]] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(tuple(store.query_rows(  # type: ignore[arg-type]
                "SELECT count(), uniqExact(county_code) FROM hsa_units FINAL WHERE deleted = 0"
            )[0]))  # fmt: skip

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i, (n, county) in enumerate([(800, "12"), (300, "14"), (650, "03")]):
            catalogue(drop, f"2024-05-0{i + 2}", n, county)
            assert [o.status for o in apply_dir(store, drop)][-1] == "applied"
    finally:
        stop.set()
        reader.join()
    # every observation is one whole catalogue: its size, one county
    assert seen <= {(501, 1), (801, 1), (301, 1), (651, 1)}, seen
    rows = store.query_rows("SELECT county_code, count() FROM hsa_units FINAL GROUP BY county_code")
    assert rows == [("03", 651)]

    # the same files again change nothing
    assert {o.status for o in apply_dir(store, drop)} == {"unchanged"}


def test_one_bad_row_quarantines_the_catalogue(store: ClickHouseStore, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    catalogue(drop, "2024-05-01", 20, "01")
    apply_dir(store, drop)
    bad = drop / "hsa" / "units-2024-05-02.csv"
    bad.write_text(f"{HEADER}\r\nSE-X,X,unit,SE-CP,02,2024-01-01T00:00:00Z\r\n", encoding="utf-8")
    os.utime(bad, (time.time() - 60, time.time() - 60))
    assert [o.status for o in apply_dir(store, drop)][-1] == "quarantined"
    report = (drop / "quarantine" / "hsa" / "units-2024-05-02.csv.report.json").read_text()
    assert '"row": 2' in report and "county_code" in report
    assert store.query_rows("SELECT count() FROM hsa_units FINAL")[0][0] == 21
