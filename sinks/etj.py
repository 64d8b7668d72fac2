"""1177 e-services events in ClickHouse: the columns of a batch (lifecycles and
the login rollup are views, see migration 0006; the case rollup the reports
read is kept by sinks/etj_rollups.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from schemas.etj import (
    EtjAccount,
    EtjCase,
    EtjLogin,
    EtjUnit,
)
from schemas.pipeline import RawMessage, Record
from sinks import etj_rollups
from sinks.dimensions import DimensionBatch, dimension_rows, key_parts
from sinks.events import Derived, EventTable


def case_columns(
    accepted: Sequence[tuple[Record, EtjCase]], _: Mapping[str, str]
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
    accepted: Sequence[tuple[Record, EtjLogin]], _: Mapping[str, str]
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


_CASES = etj_rollups.ROLLUP
CASES_TABLE: EventTable[EtjCase] = EventTable(
    "etj_cases",
    case_columns,
    derived=Derived(
        etj_rollups.TABLES,
        etj_rollups.refresh_days,
        _CASES.rebuild,
        _CASES.mark_stale,
        _CASES.heal,
    ),
)
_RUNS = etj_rollups.ACCOUNT_RUNS
LOGINS_TABLE: EventTable[EtjLogin] = EventTable(
    "etj_logins",
    login_columns,
    derived=Derived(
        etj_rollups.ACCOUNT_TABLES,
        etj_rollups.refresh_login_accounts,
        _RUNS.rebuild,
        _RUNS.mark_stale,
        _RUNS.heal,
    ),
)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def accounts(
    messages: Sequence[RawMessage], decode: Callable[[bytes | None], EtjAccount]
) -> DimensionBatch:
    def row(a: EtjAccount) -> dict[str, Any]:
        return {
            "account_id": a.account_id,
            "actor": a.actor,
            "created_at": a.created_at.astimezone(dt.UTC),
            "deleted_at": a.deleted_at.astimezone(dt.UTC) if a.deleted_at else None,
        }

    def tomb(m: RawMessage) -> dict[str, Any]:
        (account_id,) = key_parts(m, 1)
        return {"account_id": account_id, "actor": "", "created_at": _EPOCH, "deleted_at": None}

    return dimension_rows(messages, "etj_accounts", decode, row, tomb)


def units(
    messages: Sequence[RawMessage], decode: Callable[[bytes | None], EtjUnit]
) -> DimensionBatch:
    def row(u: EtjUnit) -> dict[str, Any]:
        return {
            "unit_id": u.unit_id,
            "name": u.name,
            "care_provider_id": u.care_provider_id,
            "county_code": u.county_code,
            "care_type": u.care_type,
            "activated_on": u.activated_on,
            "active": int(u.active),
            "case_types": [(e.id, e.kind, int(e.active)) for e in u.case_types],
        }

    def tomb(m: RawMessage) -> dict[str, Any]:
        (unit_id,) = key_parts(m, 1)
        return {
            "unit_id": unit_id,
            "name": "",
            "care_provider_id": "",
            "county_code": "",
            "care_type": "",
            "activated_on": dt.date(1970, 1, 1),
            "active": 0,
            "case_types": [],
        }

    return dimension_rows(messages, "etj_units", decode, row, tomb)
