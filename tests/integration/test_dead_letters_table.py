"""The dead_letters table on real chDB: a batch read again after a crash,
with a different end, must not lose the rejects it adds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from schemas.dead_letters import Page, Selection
from schemas.pipeline import Decoded, RawMessage, Rejected
from sinks import dead_letters, migrate
from sinks.clickhouse import ClickHouseStore

TOPIC = "t.ntjp.calls.v1"


def batch(start: int, end: int, bad: list[int]) -> Decoded[object]:
    out: Decoded[object] = Decoded(TOPIC, 2, end, start)
    out.rejected = [Rejected(RawMessage(TOPIC, 2, o, None, b"x"), f"bad {o}") for o in bad]
    return out


def offsets(store: ClickHouseStore) -> list[int]:
    rows = store.query_rows(
        "SELECT DISTINCT source_offset FROM dead_letters WHERE topic = {t:String} "
        "ORDER BY source_offset",
        {"t": TOPIC},
    )
    return [int(r[0]) for r in rows]


def test_a_batch_read_again_with_another_end_keeps_its_new_rejects(
    migrated_store: ClickHouseStore,
) -> None:
    first = batch(100, 150, [103])
    dead_letters.record(migrated_store, first.rejected, dead_letters.batch_token(first))
    # the process died before its checkpoint; the partition is read again from
    # 100, and this time getmany returns more messages
    again = batch(100, 220, [103, 180, 211])
    dead_letters.record(migrated_store, again.rejected, dead_letters.batch_token(again))
    assert offsets(migrated_store) == [103, 180, 211]


def test_the_same_batch_replayed_is_recorded_once(migrated_store: ClickHouseStore) -> None:
    b = batch(0, 10, [4, 7])
    for _ in range(2):
        dead_letters.record(migrated_store, b.rejected, dead_letters.batch_token(b))
    (n,) = migrated_store.query_rows("SELECT count() FROM dead_letters")[0]
    assert int(n) == 2


def test_a_message_rejected_twice_is_one_dead_letter(migrated_store: ClickHouseStore) -> None:
    """The DLQ may hold a message twice (a batch read again after a crash,
    here with another end, rejects it again): the table is keyed by
    (topic, partition, offset), so it is one dead letter (issue 21)."""
    first = batch(100, 150, [103, 120])
    dead_letters.record(migrated_store, first.rejected, dead_letters.batch_token(first))
    again = batch(100, 220, [103, 120, 180])
    dead_letters.record(migrated_store, again.rejected, dead_letters.batch_token(again))
    rows = migrated_store.query_rows(
        "SELECT source_offset FROM dead_letters FINAL ORDER BY source_offset"
    )
    assert [int(r[0]) for r in rows] == [103, 120, 180]
    listed = dead_letters.listing(migrated_store, Selection(), Page(), "")
    assert listed["total"] == 3 and [i["offset"] for i in listed["items"]] == [180, 120, 103]


def test_rows_recorded_before_the_keyed_table_are_kept(store_settings: Any, tmp_path: Path) -> None:
    """Migration 0021 rebuilds the table keyed and keeps the rows of 0008's."""
    s = ClickHouseStore(store_settings("old"))
    try:
        older = [m for m in migrate.load() if m.version < 21]
        folder = tmp_path / "older"
        folder.mkdir()
        for m in migrate.MIGRATIONS.glob("*.sql"):
            if int(m.name[:4]) < 21:
                (folder / m.name).write_text(m.read_text("utf-8"), "utf-8")
        assert migrate.migrate(s, folder)[-1] == older[-1].version
        b = batch(0, 10, [4, 7])
        dead_letters.record(s, b.rejected, "a")
        dead_letters.record(s, b.rejected[:1], "b")  # a second rejection of offset 4
        assert migrate.migrate(s)[0] == 21  # and any later version
        rows = s.query_rows("SELECT source_offset, reason FROM dead_letters FINAL ORDER BY 1")
        assert [(int(o), r) for o, r in rows] == [(4, "bad 4"), (7, "bad 7")]
        assert migrate.migrate(s) == []
        s.command(next(m for m in migrate.load() if m.version == 21).statements[0])  # again
        assert len(s.query_rows("SELECT 1 FROM dead_letters FINAL")) == 2
    finally:
        s.close()
