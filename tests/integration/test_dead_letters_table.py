"""The dead_letters table on real chDB: a batch read again after a crash,
with a different end, must not lose the rejects it adds."""

from __future__ import annotations

from schemas.pipeline import Decoded, RawMessage, Rejected
from sinks import dead_letters
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
