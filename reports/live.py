"""Operations view: the last hour per minute, dead letters, checkpoints."""

from __future__ import annotations

from typing import Any

from core import metrics
from reports.reader import Reader

SQL_MINUTES = (
    "SELECT formatDateTime(minute, '%Y-%m-%dT%H:%i:00Z') AS m, operation, status, sum(calls) "
    "FROM ntjp_calls_minute WHERE minute >= now() - INTERVAL 1 HOUR "
    "GROUP BY m, operation, status ORDER BY m, operation, status"
)


SQL_REASONS = (
    "SELECT formatDateTime(at, '%Y-%m-%dT%H:%i:%SZ'), topic, source_partition, source_offset, "
    "reason FROM dead_letters "
    "ORDER BY at DESC, topic, source_partition, source_offset DESC "
    # a message re-read after a crash is rejected (and recorded) again
    "LIMIT 1 BY topic, source_partition, source_offset LIMIT 20"
)
SQL_FILES = (
    "SELECT formatDateTime(max(at), '%Y-%m-%dT%H:%i:%SZ') AS t, name, kind, "
    "argMax(status, at), argMax(rows, at), argMax(corrected, at) "
    "FROM reconciliation_files GROUP BY sha256, name, kind ORDER BY t DESC, name LIMIT 10"
)


def live_view(reader: Reader) -> dict[str, Any]:
    snap = metrics.snapshot()

    def samples(name: str) -> list[dict[str, Any]]:
        return [{**labels, "value": v} for labels, v in snap.get(name, [])]

    return {
        "per_minute": [
            {"minute": m, "topic": "ntjp.calls.v1", "operation": op, "status": st, "events": int(n)}
            for m, op, st, n in reader.query_rows(SQL_MINUTES)
        ],
        "consumer_lag": samples("statflow_consumer_lag"),
        "dead_letters": samples("statflow_events_rejected_total"),
        "duplicates": samples("statflow_events_duplicate_total"),
        # a topic prefix (tests, shared clusters) is kept: it names the real topic
        "latest_dead_letter_reasons": [
            dict(zip(("at", "topic", "partition", "offset", "reason"), r, strict=True))
            for r in reader.query_rows(SQL_REASONS)
        ],
        "last_reconciliation": [
            dict(
                zip(
                    ("at", "file", "kind", "status", "rows", "corrected_or_differing"),
                    r,
                    strict=True,
                )
            )  # fmt: skip
            for r in reader.query_rows(SQL_FILES)
        ],
    }
