"""SOB transactions in ClickHouse: the columns of a batch, and lifecycle repair."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from agents.batch import RawMessage
from schemas.events import SobTransaction
from sinks.clickhouse import ClickHouseStore
from sinks.events import EventTable


def sob_columns(
    accepted: Sequence[tuple[RawMessage, SobTransaction]], _: Mapping[str, str]
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


def rebuild_after(store: ClickHouseStore, topic: str, partition: int, start: int) -> None:
    """Feed the unconfirmed rows to the lifecycle again. min/argMin states are
    idempotent, so rows the view already saw change nothing. Must match
    sob_moments_mv in migration 0002."""
    store.command(
        "INSERT INTO sob_moments SELECT case_id, "
        "min(if(status = 'Inprogress', occurred_at, NULL)), "
        "min(if(status = 'Done', occurred_at, NULL)), "
        "argMinState((process_name, moment_name, care_provider_id, care_unit_id), "
        "(occurred_at, event_id)), "
        "argMinIfState(patient_id, (occurred_at, event_id), toUInt8(patient_id != '')), "
        "argMinIfState(practitioner_id, (occurred_at, event_id), toUInt8(status = 'Inprogress')), "
        "argMinIfState(practitioner_id, (occurred_at, event_id), toUInt8(status = 'Done')), "
        "argMinIfState(closing_reason, (occurred_at, event_id), toUInt8(status = 'Done')) "
        "FROM sob_transactions WHERE case_type = 'Process' AND source = 'stream' "
        "AND source_partition = {p:Int32} AND source_offset >= {o:Int64} GROUP BY case_id",
        {"p": partition, "o": start},
    )


SOB_TABLE: EventTable[SobTransaction] = EventTable(
    "sob_transactions", sob_columns, lambda _: {}, rebuild_after
)
