"""What the engine does with a deduplication token over several partitions:
the reason the event sinks write one block per month (sinks/events.py).

The raw table deduplicates a token per partition, but a materialized view
deduplicates its block by the token alone: if one insert spanned two months,
a repair re-inserting only the month that landed would be dropped as it
should, yet a month first written under a token already used would reach the
raw table and never its rollup. Should a chDB upgrade change this, this test
says so, and the month split may be revisited (it costs ingest most when a
getmany spans months: README, Benchmarks)."""

from pathlib import Path

import chdb
import pytest

pytestmark = pytest.mark.integration


def test_one_token_over_two_months_keeps_raw_and_rollup_apart(tmp_path: Path) -> None:
    conn = chdb.connect(str(tmp_path / "chdb"))  # type: ignore[no-untyped-call]

    def q(sql: str) -> str:
        return str(conn.query(sql, "TSV")).strip()

    q("CREATE DATABASE d")
    q(
        "CREATE TABLE d.raw (t DateTime, v UInt32) ENGINE = MergeTree "
        "PARTITION BY toYYYYMM(t) ORDER BY t SETTINGS non_replicated_deduplication_window = 100"
    )
    q(
        "CREATE TABLE d.roll (day Date, n UInt64) ENGINE = SummingMergeTree ORDER BY day "
        "SETTINGS non_replicated_deduplication_window = 100"
    )
    q("CREATE MATERIALIZED VIEW d.mv TO d.roll AS SELECT toDate(t) AS day, count() AS n "
      "FROM d.raw GROUP BY day")  # fmt: skip

    def insert(rows: str) -> None:
        q(
            "INSERT INTO d.raw SETTINGS insert_deduplication_token = 'T', "
            f"deduplicate_blocks_in_dependent_materialized_views = 1 VALUES {rows}"
        )

    def counts() -> tuple[str, str]:
        return q("SELECT count() FROM d.raw"), q("SELECT sum(n) FROM d.roll")

    insert("('2024-05-31 10:00:00', 1)")  # a crash left only May's part
    assert counts() == ("1", "1")
    insert("('2024-05-31 10:00:00', 1), ('2024-06-01 10:00:00', 2)")  # the whole block again
    raw, rolled = counts()
    assert raw == "2", "the raw table takes June: it deduplicates per partition"
    assert rolled == "1", "the view drops June: it deduplicates by the token alone"
