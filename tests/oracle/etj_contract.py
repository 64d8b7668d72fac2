"""An independent reading of the e-services contract (tests/oracle/etj.py),
for the generator's bad input: why a raw message breaks its topic's contract."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

from schemas.counties import COUNTIES
from synth.personnummer import is_valid_personnummer
from tests.oracle.etj_input import (
    ACTORS,
    CARE_TYPES,
    EVENTS,
    KINDS,
    METHODS,
    STANDARD_CASE_TYPES,
)
from tests.oracle.parsing import (
    RFC3339,
    id_problem,
)

# --- an independent reading of the contract, for the generator's bad input ------

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PNR_LIKE = re.compile(r"^(\d{2})?(\d{6})[-+]?(\d{4})$")


def _instant_problem(v: Any) -> str | None:
    if not isinstance(v, str) or not RFC3339.match(v):
        return "not RFC 3339 with offset"
    try:
        t = dt.datetime.fromisoformat(v)
    except ValueError:
        return "not a real instant"
    if not dt.datetime(2000, 1, 1, tzinfo=dt.UTC) <= t < dt.datetime(2100, 1, 1, tzinfo=dt.UTC):
        return "outside 2000..2100"
    return None


def looks_like_personnummer(v: str) -> bool:
    """A valid Swedish personal identity number, 12 or 10 digits, with or without separator."""
    m = _PNR_LIKE.match(v)
    if not m:
        return False
    rest = m.group(2) + m.group(3)
    candidates = [m.group(1) + rest] if m.group(1) else ["19" + rest, "20" + rest]
    return any(is_valid_personnummer(p) for p in candidates)


def _account_problem(e: dict[str, Any]) -> str | None:
    if (p := id_problem(e.get("account_id"), 128)) is not None:
        return f"account_id: {p}"
    if looks_like_personnummer(e["account_id"]):
        return "account_id: a personal identity number"
    if e.get("actor") not in ACTORS:
        return "actor: not resident or staff"
    return None


def _case_violation(e: dict[str, Any]) -> str | None:
    for name, longest in (("event_id", 128), ("case_id", 128), ("unit_id", 64)):
        if (p := id_problem(e.get(name), longest)) is not None:
            return f"{name}: {p}"
    if (p := _instant_problem(e.get("occurred_at"))) is not None:
        return f"occurred_at: {p}"
    if (p := id_problem(e.get("case_type"), 128)) is not None:
        return f"case_type: {p}"
    if e.get("case_type_kind") not in KINDS:
        return "case_type_kind: not standard, own or integration"
    if e["case_type_kind"] == "standard" and e["case_type"] not in STANDARD_CASE_TYPES:
        return "case_type: not a standard id"
    if e.get("event") not in EVENTS:
        return "event: not one of the five"
    if e.get("assignee_id") is not None and id_problem(e["assignee_id"], 64):
        return "assignee_id: not an HSA-id"
    return None


def _login_violation(e: dict[str, Any]) -> str | None:
    if (p := id_problem(e.get("event_id"), 128)) is not None:
        return f"event_id: {p}"
    if (p := _instant_problem(e.get("occurred_at"))) is not None:
        return f"occurred_at: {p}"
    if (p := _account_problem(e)) is not None:
        return p
    if e.get("method") not in METHODS:
        return "method: not one of the five"
    if e.get("county_code") is not None and e["county_code"] not in COUNTIES:
        return "county_code: not a county"
    return None


def _accounts_violation(e: dict[str, Any]) -> str | None:
    if (p := _account_problem(e)) is not None:
        return p
    if (p := _instant_problem(e.get("created_at"))) is not None:
        return f"created_at: {p}"
    if e.get("deleted_at") is not None and (p := _instant_problem(e["deleted_at"])):
        return f"deleted_at: {p}"
    return None


def _unit_violation(e: dict[str, Any]) -> str | None:
    for name in ("unit_id", "care_provider_id"):
        if (p := id_problem(e.get(name), 64)) is not None:
            return f"{name}: {p}"
    if not isinstance(e.get("name"), str) or len(e["name"]) > 512:
        return "name: missing or not a string"
    if e.get("county_code") not in COUNTIES:
        return "county_code: not a county"
    if e.get("care_type") not in CARE_TYPES:
        return "care_type: not one of the six"
    on = e.get("activated_on")
    if not isinstance(on, str) or not _DATE.match(on):
        return "activated_on: not an ISO date"
    try:
        dt.date.fromisoformat(on)
    except ValueError:
        return "activated_on: not a real date"
    if not isinstance(e.get("active"), bool):
        return "active: not a boolean"
    entries = e.get("case_types")
    if not isinstance(entries, list):
        return "case_types: not a list"
    for entry in entries:
        if not isinstance(entry, dict):
            return "case_types: an entry is not an object"
        if not isinstance(entry.get("id"), str) or not entry["id"]:
            return "case_types: an entry without id"
        if entry.get("kind") not in KINDS:
            return "case_types: unknown kind"
        if not isinstance(entry.get("active"), bool):
            return "case_types: active not a boolean"
    return None


_VIOLATIONS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "etj.cases.v1": _case_violation,
    "etj.logins.v1": _login_violation,
    "etj.accounts.v1": _accounts_violation,
    "etj.units.v1": _unit_violation,
}


def etj_violation(topic: str, raw: bytes) -> str | None:
    """Why `raw` breaks the contract of `topic`, or None when it follows it."""
    check = _VIOLATIONS[topic]
    try:
        e = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "not JSON"
    if not isinstance(e, dict):
        return "not a JSON object"
    return check(e)
