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
from sinks.events import Derived, EventTable, contract_columns

_CASE = contract_columns(EtjCase)
_LOGIN = contract_columns(EtjLogin)


def case_columns(
    accepted: Sequence[tuple[Record, EtjCase]], _: Mapping[str, str]
) -> dict[str, list[Any]]:
    return _CASE(accepted)


def login_columns(
    accepted: Sequence[tuple[Record, EtjLogin]], _: Mapping[str, str]
) -> dict[str, list[Any]]:
    return _LOGIN(accepted)


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
