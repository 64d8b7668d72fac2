"""SOB transactions in ClickHouse: the columns of a batch (the lifecycle is a
view; the day rollup the reports read is kept by sinks/sob_rollups.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from schemas.events import SobTransaction
from schemas.pipeline import Record
from sinks import sob_rollups
from sinks.clickhouse import ClickHouseStore
from sinks.events import Derived, EventTable


def sob_columns(
    accepted: Sequence[tuple[Record, SobTransaction]], _: Mapping[str, str]
) -> dict[str, list[Any]]:
    t = [e for _, e in accepted]
    return {
        "event_id": [e.event_id for e in t],
        "occurred_at": [e.occurred_at.astimezone(dt.UTC) for e in t],
        "case_id": [e.case_id for e in t],
        "case_type": [e.case_type for e in t],
        "status": [e.status for e in t],
        "process_name": [e.process_name for e in t],
        "moment_name": [e.moment_name for e in t],
        "care_provider_id": [e.care_provider_id for e in t],
        "care_unit_id": [e.care_unit_id for e in t],
        "practitioner_id": [e.practitioner_id or "" for e in t],
        "patient_id": [e.patient_id or "" for e in t],
        "patient_gender": [e.patient_gender or "" for e in t],
        "patient_age": [e.patient_age for e in t],
        "closing_reason": [e.closing_reason or "" for e in t],
        "source_partition": [m.partition for m, _ in accepted],
        "source_offset": [m.offset for m, _ in accepted],
    }


def refresh_days(store: ClickHouseStore, events: Sequence[SobTransaction]) -> int:
    """Recompute the rollup's days the batch's moments touch."""
    return sob_rollups.refresh(store, (e.case_id for e in events if e.case_type == "Process"))


SOB_TABLE: EventTable[SobTransaction] = EventTable(
    "sob_transactions",
    sob_columns,
    derived=Derived(
        sob_rollups.TABLES,
        refresh_days,
        sob_rollups.rebuild,
        sob_rollups.mark_stale,
        sob_rollups.heal,
    ),
)
