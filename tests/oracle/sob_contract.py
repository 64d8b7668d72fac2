"""An independent reading of the `sob.transactions.v1` contract, for the
generator's bad input (tests/unit/synth/test_synth_sob.py)."""

from __future__ import annotations

import datetime as dt
import json

from synth.personnummer import is_valid_personnummer
from tests.oracle.parsing import RFC3339, id_problem
from tests.oracle.sob_input import GENDERS


def sob_violation(raw: bytes) -> str | None:
    """Why `raw` breaks the `sob.transactions.v1` contract, or None when it follows it."""
    try:
        e = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "not JSON"
    if not isinstance(e, dict):
        return "not a JSON object"
    for name, longest in (("event_id", 128), ("case_id", 128)):
        if (p := id_problem(e.get(name), longest)) is not None:
            return f"{name}: {p}"
    for name in ("care_provider_id", "care_unit_id"):
        if (p := id_problem(e.get(name), 64)) is not None:
            return f"{name}: {p}"
    for name in ("case_type", "status", "process_name", "moment_name"):
        if not isinstance(e.get(name), str) or not e[name]:
            return f"{name}: missing or not a string"
    at = e.get("occurred_at")
    if not isinstance(at, str) or not RFC3339.match(at):
        return "occurred_at: not RFC 3339 with offset"
    try:
        t = dt.datetime.fromisoformat(at)
    except ValueError:
        return "occurred_at: not a real instant"
    if not dt.datetime(2000, 1, 1, tzinfo=dt.UTC) <= t < dt.datetime(2100, 1, 1, tzinfo=dt.UTC):
        return "occurred_at: outside 2000..2100"
    if e.get("practitioner_id") is not None and id_problem(e["practitioner_id"], 64):
        return "practitioner_id: not an identifier"
    pid = e.get("patient_id")
    if pid is not None and (not isinstance(pid, str) or not is_valid_personnummer(pid)):
        return "patient_id: not a valid personal identity number"
    if e.get("patient_gender") is not None and e["patient_gender"] not in GENDERS:
        return "patient_gender: not F, M or U"
    age = e.get("patient_age")
    if age is not None and (type(age) is not int or not 0 <= age <= 130):
        return "patient_age: not an integer 0..130"
    if e.get("closing_reason") is not None and not isinstance(e["closing_reason"], str):
        return "closing_reason: not a string"
    return None
