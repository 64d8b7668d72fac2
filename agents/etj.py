"""1177 e-services: case events and logins take the batched loop; accounts and
units are compacted reference topics on Faust agents, like the HSA catalogue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import faust

from agents.batch import RawMessage
from agents.reference import DimensionBatch, dimension_rows, key_parts, reference_agent
from agents.wiring import register_batched
from schemas.etj import (
    EtjAccount,
    EtjUnit,
    account_decoder,
    case_decoder,
    etj_unit_decoder,
    login_decoder,
)
from sinks.etj import CASES_TABLE, LOGINS_TABLE
from streams.context import Context
from streams.topics import ETJ_ACCOUNTS, ETJ_CASES, ETJ_LOGINS, ETJ_UNITS

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


def register(app: faust.App, ctx: Context) -> None:
    s = ctx.settings
    register_batched(app, ctx, ETJ_CASES, case_decoder(s.max_message_bytes), CASES_TABLE)
    register_batched(app, ctx, ETJ_LOGINS, login_decoder(s.max_message_bytes), LOGINS_TABLE)
    reference_agent(app, ctx, ETJ_ACCOUNTS, accounts, account_decoder(s.max_message_bytes))
    reference_agent(app, ctx, ETJ_UNITS, units, etj_unit_decoder(s.max_message_bytes))
