"""Dimension rows: the pure functions that turn reference messages (HSA units
and persons, NTJP routing, SCB population) into ReplacingMergeTree rows, used
by the reference agents (agents/reference.py) and by file reconciliation
(reconcile/apply.py). No I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from core.errors import ValidationError
from schemas.events import (
    HsaPerson,
    HsaUnit,
    NtjpRouting,
    ScbPopulation,
)
from schemas.pipeline import RawMessage, Rejected

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class DimensionBatch:
    table: str
    columns: dict[str, list[Any]]
    rejected: list[Rejected]
    # (hsa_id, county or None) for the Redis lookup cache, in offset order
    counties: list[tuple[str, str | None]]


def key_parts(msg: RawMessage, n: int) -> list[str]:
    if msg.key is None:
        raise ValidationError("tombstone without a key: nothing to delete")
    try:
        parts = msg.key.decode("utf-8").split("/")
    except UnicodeDecodeError:
        raise ValidationError("message key is not UTF-8") from None
    if len(parts) != n or not all(parts):
        raise ValidationError(f"tombstone key must have {n} part(s) separated by '/'")
    return parts


def dimension_rows(
    messages: Sequence[RawMessage],
    table: str,
    decode: Callable[[bytes | None], msgspec.Struct],
    row_of: Callable[[Any], dict[str, Any]],
    tombstone_of: Callable[[RawMessage], dict[str, Any]],
) -> DimensionBatch:
    out = DimensionBatch(table, {}, [], [])
    rows: list[dict[str, Any]] = []
    for msg in messages:
        try:
            if msg.value is None:
                row = tombstone_of(msg) | {"deleted": 1}
            else:
                row = row_of(decode(msg.value)) | {"deleted": 0}
        except ValidationError as exc:
            out.rejected.append(Rejected(msg, str(exc)))
            continue
        row["version"] = msg.offset
        rows.append(row)
        if table == "hsa_units":
            out.counties.append((row["hsa_id"], None if row["deleted"] else row["county_code"]))
    if rows:
        out.columns = {k: [r[k] for r in rows] for k in rows[0]}
    return out


def units(
    messages: Sequence[RawMessage], decode: Callable[[bytes | None], HsaUnit]
) -> DimensionBatch:
    def row(u: HsaUnit) -> dict[str, Any]:
        return {
            "hsa_id": u.hsa_id,
            "name": u.name,
            "kind": u.kind,
            "care_provider_id": u.care_provider_id
            or (u.hsa_id if u.kind == "care_provider" else ""),
            "county_code": u.county_code,
            "updated_at": u.updated_at.astimezone(dt.UTC),
        }

    def tomb(m: RawMessage) -> dict[str, Any]:
        (hsa_id,) = key_parts(m, 1)
        return {
            "hsa_id": hsa_id,
            "name": "",
            "kind": "unit",
            "care_provider_id": "",
            "county_code": "",
            "updated_at": _EPOCH,
        }

    return dimension_rows(messages, "hsa_units", decode, row, tomb)


def persons(
    messages: Sequence[RawMessage], decode: Callable[[bytes | None], HsaPerson]
) -> DimensionBatch:
    def row(p: HsaPerson) -> dict[str, Any]:
        return {
            "hsa_id": p.hsa_id,
            "given_name": p.given_name,
            "family_name": p.family_name,
            "care_provider_id": p.care_provider_id,
        }

    def tomb(m: RawMessage) -> dict[str, Any]:
        (hsa_id,) = key_parts(m, 1)
        return {"hsa_id": hsa_id, "given_name": "", "family_name": "", "care_provider_id": ""}

    return dimension_rows(messages, "hsa_persons", decode, row, tomb)


def routing(
    messages: Sequence[RawMessage], decode: Callable[[bytes | None], NtjpRouting]
) -> DimensionBatch:
    def row(r: NtjpRouting) -> dict[str, Any]:
        return {
            "logical_address": r.logical_address,
            "operation": r.operation,
            "active_from": r.active_from,
            "active_to": r.active_to,
        }

    def tomb(m: RawMessage) -> dict[str, Any]:
        address, operation = key_parts(m, 2)
        return {
            "logical_address": address,
            "operation": operation,
            "active_from": dt.date(1970, 1, 1),
            "active_to": None,
        }

    return dimension_rows(messages, "ntjp_routing", decode, row, tomb)


def population(
    messages: Sequence[RawMessage], decode: Callable[[bytes | None], ScbPopulation]
) -> DimensionBatch:
    def row(p: ScbPopulation) -> dict[str, Any]:
        return {"county_code": p.county_code, "year": p.year, "population": p.population}

    def tomb(m: RawMessage) -> dict[str, Any]:
        county, year = key_parts(m, 2)
        if not year.isdigit():
            raise ValidationError("tombstone key year must be digits")
        return {"county_code": county, "year": int(year), "population": 0}

    return dimension_rows(messages, "scb_population", decode, row, tomb)
