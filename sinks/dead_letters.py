"""A row per rejected message (topic, partition, offset, reason) for the
operations view; the message itself goes to the DLQ topic, never here."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.pipeline import Decoded, Rejected
from sinks.clickhouse import ClickHouseStore


def batch_token(batch: Decoded[object]) -> str:
    """The deduplication token of a batch's dead-letter rows.

    It names the batch's end as well as its start: a batch read again after a
    crash starts at the same checkpoint but may end elsewhere, and a token of
    the start alone made ClickHouse drop the re-read batch's insert, losing
    its new rejects (1,056 of 1,069 in a fault run)."""
    return f"dlq|{batch.topic}|{batch.partition}|{batch.start_offset}-{batch.next_offset}"


def record(store: ClickHouseStore, rejected: Sequence[Rejected], token: str | None = None) -> None:
    """Insert the reasons; `token` makes a replayed batch's insert a no-op."""
    if not rejected:
        return
    settings = {"insert_deduplication_token": token} if token else None
    store.insert_columns(
        "dead_letters",
        {
            "topic": [r.message.topic for r in rejected],
            "source_partition": [r.message.partition for r in rejected],
            "source_offset": [r.message.offset for r in rejected],
            "reason": [r.reason for r in rejected],
        },
        settings,
    )
