"""The 1177 e-services nightly file: compared with the stream, whole or not at all.

Case reports count each case's first event of a kind, so a count per (day,
unit, case type, event) cannot say which case to correct; the file is the
platform's own count of the events it sent, so a difference means events
lost or invented on the way. Each difference is recorded (`etj_reconciliation`)
and summarised as a data-quality annotation on the day, so every e-tjanster
answer covering it says so, in every format.
"""

from __future__ import annotations

import datetime as dt

from reconcile.files import EtjCasesFile, corrections
from sinks.clickhouse import ClickHouseStore

STREAM_COUNTS = (
    "SELECT unit_id, case_type, toString(event), uniqExact(event_id) FROM etj_cases "
    "WHERE occurred_at >= {lo:DateTime64(3, 'UTC')} AND occurred_at < {hi:DateTime64(3, 'UTC')} "
    "AND toDate(occurred_at, 'Europe/Stockholm') = {d:Date} "
    "GROUP BY unit_id, case_type, event"
)
CASE_REPORTS = ("cases-per-unit", "cases-per-case-type", "handling-times", "case-status",
                "unanswered-cases")  # fmt: skip


def stream_counts(store: ClickHouseStore, day: dt.date) -> dict[tuple[str, str, str], int]:
    lo = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(), dt.UTC)
    hi = lo + dt.timedelta(days=3)
    rows = store.query_rows(STREAM_COUNTS, {"lo": lo, "hi": hi, "d": day})
    return {(u, t, e): int(n) for u, t, e, n in rows}


def summary(f: EtjCasesFile, diff: dict[tuple[str, str, str], int]) -> str:
    missing = sum(d for d in diff.values() if d > 0)
    extra = -sum(d for d in diff.values() if d < 0)
    return (
        f"Nattfilen {f.name} stämmer inte med strömmen för {f.day}: {missing} händelser i filen "
        f"saknas i strömmen och {extra} händelser i strömmen saknas i filen "
        f"({len(diff)} kombinationer av enhet, ärendetyp och händelse). "
        "Se GET /api/v1/reconciliation."
    )


def compare(store: ClickHouseStore, f: EtjCasesFile) -> int:
    """Record the file against the stream; return how many keys differ."""
    current = stream_counts(store, f.day)
    diff = corrections(f.counts, current)
    counted = sorted(f.counts)
    if counted:  # the whole file, for the listing's whole-day figures
        store.insert_columns(
            "etj_file_counts",
            {
                "sha256": [f.sha256] * len(counted),
                "day": [f.day] * len(counted),
                "unit_id": [k[0] for k in counted],
                "case_type": [k[1] for k in counted],
                "event": [k[2] for k in counted],
                "count": [f.counts[k] for k in counted],
            },
        )
    keys = sorted(diff)
    if keys:
        store.insert_columns(
            "etj_reconciliation",
            {
                "file": [f.name] * len(keys),
                "sha256": [f.sha256] * len(keys),
                "day": [f.day] * len(keys),
                "unit_id": [k[0] for k in keys],
                "case_type": [k[1] for k in keys],
                "event": [k[2] for k in keys],
                "stream_count": [current.get(k, 0) for k in keys],
                "file_count": [f.counts.get(k, 0) for k in keys],
            },
        )
        store.insert_columns(
            "annotations",
            {
                "created_by": [f"reconcile:{f.name}"],
                "service": ["e-tjanster"],
                "reports": [list(CASE_REPORTS)],
                "date_from": [f.day],
                "date_to": [f.day],
                "text": [summary(f, diff)],
            },
        )
    return len(keys)
