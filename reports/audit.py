"""The audit log: who read or exported what, when, with which parameters.
Append-only in ClickHouse (table audit_log, migration 0003)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import orjson

from core.auth import Caller
from reports.reader import Reader


class AuditWriter(Protocol):
    def insert_columns(
        self, table: str, columns: Mapping[str, Any], settings: Mapping[str, Any] | None = None
    ) -> None: ...


def record(
    store: AuditWriter,
    caller: Caller,
    action: str,
    service: str = "",
    report: str = "",
    params: Mapping[str, Any] | None = None,
    outcome: str = "ok",
    export_id: str = "",
) -> None:
    store.insert_columns(
        "audit_log",
        {
            "subject": [caller.subject],
            "care_providers": [list(caller.care_providers)],
            "county_code": [caller.county_code or ""],
            "unit_ids": [list(caller.unit_ids)],
            "roles": [list(caller.roles)],
            "action": [action],
            "service": [service],
            "report": [report],
            "params": [orjson.dumps(params or {}).decode()],
            "outcome": [outcome],
            "export_id": [export_id],
        },
    )


def scope_text(entry: Mapping[str, Any]) -> str:
    """Who, with the scope the read was made under, for a person to read:
    `anna (SE-CP1,SE-CP2)`, `region (region_admin: county 01)`,
    `ua (unit_admin: SE-U1,SE-U2)`."""
    parts = [",".join(entry.get("care_providers") or [])]
    roles = set(entry.get("roles") or [])
    if entry.get("county_code"):
        parts.append(f"region_admin: county {entry['county_code']}")
    if entry.get("unit_ids"):
        parts.append(f"unit_admin: {','.join(entry['unit_ids'])}")
    if not any(parts) and roles:
        parts.append(",".join(sorted(roles)))
    return f"{entry['subject']} ({'; '.join(p for p in parts if p)})"


def recent(reader: Reader, limit: int = 100) -> list[dict[str, Any]]:
    rows = reader.query_rows(
        "SELECT at, subject, care_providers, county_code, unit_ids, roles, action, service, "
        "report, params, outcome, export_id FROM audit_log ORDER BY at DESC LIMIT {n:UInt32}",
        {"n": limit},
    )
    keys = ("at", "subject", "care_providers", "county_code", "unit_ids", "roles", "action",
            "service", "report", "params", "outcome", "export_id")  # fmt: skip
    return [dict(zip(keys, r, strict=True)) for r in rows]
