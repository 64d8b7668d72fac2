"""Operations view: the last hour per minute, dead letters, checkpoints."""

from __future__ import annotations

from typing import Any

from reports.reader import Reader
from streams import metrics

SQL_MINUTES = (
    "SELECT formatDateTime(minute, '%Y-%m-%dT%H:%i:00Z') AS m, operation, status, sum(calls) "
    "FROM ntjp_calls_minute WHERE minute >= now() - INTERVAL 1 HOUR "
    "GROUP BY m, operation, status ORDER BY m, operation, status"
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
    }
