"""The seen-id stores (EmbeddedRocksDB) carry a whole-key Bloom filter: a
lookup of an id they do not hold (a new event, the usual case) is answered
from memory instead of searching every sorted run of the store, whose number
grows with history (sinks/clickhouse.CHDB_CONFIG)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sinks.clickhouse import ClickHouseStore

SEEN = ("ntjp_calls_seen", "sob_transactions_seen", "etj_cases_seen", "etj_logins_seen")


@pytest.mark.parametrize("table", SEEN)
def test_every_seen_store_is_opened_with_a_bloom_filter(
    migrated_store: ClickHouseStore, table: str
) -> None:
    if not migrated_store.embedded:
        pytest.skip("a ClickHouse server takes the <rocksdb> section in its own config")
    rows = migrated_store.query_rows(
        "SELECT engine, data_paths FROM system.tables WHERE database = {d:String} "
        "AND name = {t:String}",
        {"d": migrated_store.database, "t": table},
    )
    assert rows and rows[0][0] == "EmbeddedRocksDB"
    options = sorted(Path(rows[0][1][0]).glob("OPTIONS-*"))
    assert options, "RocksDB wrote no OPTIONS file"
    text = options[-1].read_text("utf-8")
    assert re.search(r"^\s*filter_policy=bloomfilter:10:false\s*$", text, re.M), table
    assert re.search(r"^\s*whole_key_filtering=true\s*$", text, re.M)
