"""Where each topic partition's ingest got to, kept in ClickHouse.

ClickHouse, not Kafka's committed offset, is the authority on restart: a
checkpoint is written only after the batch's rows are in, so reading from it
never skips an event (faust-streaming issue 606 shows why Kafka commits alone
are not enough).
"""

from __future__ import annotations

from collections.abc import Mapping

from sinks.clickhouse import ClickHouseStore


class Checkpoints:
    def __init__(self, store: ClickHouseStore) -> None:
        self._store = store

    def get(self, topic: str, partition: int) -> int | None:
        rows = self._store.query_rows(
            "SELECT max(next_offset), count() FROM ingest_checkpoints "
            "WHERE topic = {t:String} AND partition = {p:Int32}",
            {"t": topic, "p": partition},
        )
        return int(rows[0][0]) if rows and rows[0][1] else None

    def put(self, topic: str, partition: int, next_offset: int) -> None:
        self.put_many(topic, {partition: next_offset})

    def put_many(self, topic: str, next_offsets: Mapping[int, int]) -> None:
        """Every partition of one write in one insert (one part, all or none)."""
        parts = sorted(next_offsets)
        self._store.insert_columns(
            "ingest_checkpoints",
            {
                "topic": [topic] * len(parts),
                "partition": parts,
                "next_offset": [next_offsets[p] for p in parts],
            },
        )

    def all(self) -> dict[tuple[str, int], int]:
        rows = self._store.query_rows(
            "SELECT topic, partition, max(next_offset) FROM ingest_checkpoints "
            "GROUP BY topic, partition"
        )
        return {(str(t), int(p)): int(o) for t, p, o in rows}
