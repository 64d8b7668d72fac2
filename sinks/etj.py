"""1177 e-services events in ClickHouse: the columns of a batch (lifecycles and
rollups are views, see migration 0006)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from agents.batch import RawMessage
from schemas.etj import EtjCase, EtjLogin
from sinks.events import EventTable


def case_columns(
    accepted: Sequence[tuple[RawMessage, EtjCase]], _: Mapping[str, str]
) -> dict[str, list[Any]]:
    t = [e for _, e in accepted]
    return {
        "event_id": [e.event_id for e in t],
        "occurred_at": [e.occurred_at.astimezone(dt.UTC) for e in t],
        "case_id": [e.case_id for e in t],
        "unit_id": [e.unit_id for e in t],
        "case_type": [e.case_type for e in t],
        "case_type_kind": [e.case_type_kind for e in t],
        "event": [e.event for e in t],
        "assignee_id": [e.assignee_id or "" for e in t],
        "source_partition": [m.partition for m, _ in accepted],
        "source_offset": [m.offset for m, _ in accepted],
    }


def login_columns(
    accepted: Sequence[tuple[RawMessage, EtjLogin]], _: Mapping[str, str]
) -> dict[str, list[Any]]:
    t = [e for _, e in accepted]
    return {
        "event_id": [e.event_id for e in t],
        "occurred_at": [e.occurred_at.astimezone(dt.UTC) for e in t],
        "account_id": [e.account_id for e in t],
        "actor": [e.actor for e in t],
        "method": [e.method for e in t],
        "county_code": [e.county_code or "" for e in t],
        "source_partition": [m.partition for m, _ in accepted],
        "source_offset": [m.offset for m, _ in accepted],
    }


CASES_TABLE: EventTable[EtjCase] = EventTable("etj_cases", case_columns)
LOGINS_TABLE: EventTable[EtjLogin] = EventTable("etj_logins", login_columns)
