"""Invalid input for the e-services topics (synth/etj.py): every field's
violations per topic, and bytes that are not JSON at all."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import orjson

from schemas.etj import STANDARD_CASE_TYPES
from synth.personnummer import test_personnummer
from synth.timing import (
    rfc3339,
    uuid4,
)

# --- invalid input ---------------------------------------------------------------

Mutation = Callable[[dict[str, Any], random.Random], None]


def _set(name: str, value: Any) -> Mutation:
    def mutate(e: dict[str, Any], rng: random.Random) -> None:
        e[name] = value

    return mutate


def _drop(name: str) -> Mutation:
    def mutate(e: dict[str, Any], rng: random.Random) -> None:
        del e[name]

    return mutate


def _pnr12(e: dict[str, Any], rng: random.Random) -> None:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 25000))
    e["account_id"] = test_personnummer(rng, born, rng.choice("FM"))


def _pnr10(e: dict[str, Any], rng: random.Random) -> None:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 25000))
    p = test_personnummer(rng, born, rng.choice("FM"))
    e["account_id"] = f"{p[2:8]}-{p[8:]}"


_DROP = object()  # marks a key to remove from a case_types entry


def _case_types_entry(name: str, value: Any) -> Mutation:
    def mutate(e: dict[str, Any], rng: random.Random) -> None:
        entry = dict(e["case_types"][0])
        if value is _DROP:
            del entry[name]
        else:
            entry[name] = value
        e["case_types"] = [entry, *e["case_types"][1:]]

    return mutate


def _instant(rng: random.Random) -> dt.datetime:
    return dt.datetime(2023, 5, 4, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randint(0, 10**5))


def _valid(topic: str, rng: random.Random) -> dict[str, Any]:
    if topic == "etj.cases.v1":
        return {
            "event_id": uuid4(rng),
            "occurred_at": rfc3339(_instant(rng), rng),
            "case_id": "etj-" + uuid4(rng),
            "unit_id": "SE2321000016-ETJ001",
            "case_type": rng.choice(STANDARD_CASE_TYPES),
            "case_type_kind": "standard",
            "event": "assigned",
            "assignee_id": "SE2321000016-ETP0001",
        }
    if topic == "etj.logins.v1":
        return {
            "event_id": uuid4(rng),
            "occurred_at": rfc3339(_instant(rng), rng),
            "account_id": uuid4(rng),
            "actor": "resident",
            "method": "bankid",
            "county_code": "01",
        }
    if topic == "etj.accounts.v1":
        return {
            "account_id": uuid4(rng),
            "actor": "resident",
            "created_at": rfc3339(_instant(rng), rng),
            "deleted_at": rfc3339(_instant(rng) + dt.timedelta(days=400), rng),
        }
    if topic == "etj.units.v1":
        return {
            "unit_id": "SE2321000016-ETJ001",
            "name": "Vårdcentral Södermalm",
            "care_provider_id": "SE2321000016-ETJ0",
            "county_code": "01",
            "care_type": "primarvard",
            "activated_on": "2012-03-05",
            "active": True,
            "case_types": [
                {"id": "boka-tid", "kind": "standard", "active": True},
                {"id": "SE2321000016-ETJ001/egen-fotvard", "kind": "own", "active": False},
            ],
        }
    raise ValueError(f"unknown etj topic {topic!r}")


_COMMON: list[tuple[Mutation, str]] = [
    (_drop("event_id"), "event_id: missing"),
    (_set("event_id", ""), "event_id: empty"),
    (_set("event_id", 42), "event_id: a number, not a string"),
    (_drop("occurred_at"), "occurred_at: missing"),
    (_set("occurred_at", "2023-05-04T10:00:00"), "occurred_at: no offset"),
    (_set("occurred_at", "2023-02-30T10:00:00Z"), "occurred_at: impossible date"),
    (_set("occurred_at", "4 maj 2023 kl 10"), "occurred_at: not RFC 3339"),
    (_set("occurred_at", 1683194400), "occurred_at: a number"),
]
# Labels describe the fault and never carry a number: they reach logs.
_FAULTS: dict[str, list[tuple[Mutation, str]]] = {
    "etj.cases.v1": [
        *_COMMON,
        (_drop("case_id"), "case_id: missing"),
        (_drop("unit_id"), "unit_id: missing"),
        (_set("unit_id", "SE2321000016 ETJ001"), "unit_id: contains a space"),
        (_drop("case_type"), "case_type: missing"),
        (_set("case_type", ""), "case_type: empty"),
        (_set("case_type_kind", "custom"), "case_type_kind: not standard, own or integration"),
        (_drop("case_type_kind"), "case_type_kind: missing"),
        (_set("case_type", "boka_tid"), "case_type: kind standard but not a standard id"),
        (_set("event", "opened"), "event: not one of the five events"),
        (_set("event", "Received"), "event: upper case"),
        (_drop("event"), "event: missing"),
        (_set("assignee_id", 17), "assignee_id: a number, not an HSA-id"),
    ],
    "etj.logins.v1": [
        *_COMMON,
        (_pnr12, "account_id: a personal identity number"),
        (_pnr10, "account_id: a personal identity number (10 digits with hyphen)"),
        (_drop("account_id"), "account_id: missing"),
        (_set("account_id", ""), "account_id: empty"),
        (_set("actor", "patient"), "actor: not resident or staff"),
        (_drop("actor"), "actor: missing"),
        (_set("method", "BankID"), "method: wrong case"),
        (_set("method", "sms"), "method: not a known method"),
        (_drop("method"), "method: missing"),
        (_set("county_code", "26"), "county_code: not a county"),
        (_set("county_code", "00"), "county_code: 00 is the unknown county, not a county"),
        (_set("county_code", 1), "county_code: a number, not a two-digit string"),
    ],
    "etj.accounts.v1": [
        (_pnr12, "account_id: a personal identity number"),
        (_drop("account_id"), "account_id: missing"),
        (_set("account_id", "konto 1"), "account_id: contains a space"),
        (_set("actor", "admin"), "actor: not resident or staff"),
        (_drop("actor"), "actor: missing"),
        (_drop("created_at"), "created_at: missing"),
        (_set("created_at", "2023-05-04T10:00:00"), "created_at: no offset"),
        (_set("created_at", "yesterday"), "created_at: not RFC 3339"),
        (_set("deleted_at", "2023-13-01T00:00:00Z"), "deleted_at: month 13"),
        (_set("deleted_at", 1683194400), "deleted_at: a number"),
    ],
    "etj.units.v1": [
        (_drop("unit_id"), "unit_id: missing"),
        (_set("unit_id", ""), "unit_id: empty"),
        (_drop("name"), "name: missing"),
        (_drop("care_provider_id"), "care_provider_id: missing"),
        (_set("county_code", "00"), "county_code: 00 is not a county"),
        (_set("county_code", "2"), "county_code: one digit"),
        (_set("care_type", "vardcentral"), "care_type: not one of the six"),
        (_drop("care_type"), "care_type: missing"),
        (_set("activated_on", "2009-13-01"), "activated_on: month 13"),
        (_set("activated_on", "1 maj 2009"), "activated_on: not an ISO date"),
        (_drop("activated_on"), "activated_on: missing"),
        (_set("active", "yes"), "active: a string, not a boolean"),
        (_set("active", 1), "active: a number, not a boolean"),
        (_drop("active"), "active: missing"),
        (_set("case_types", "boka-tid"), "case_types: not a list"),
        (_set("case_types", [None]), "case_types: an entry is null"),
        (_case_types_entry("kind", "egen"), "case_types: an entry's kind is unknown"),
        (_case_types_entry("id", _DROP), "case_types: an entry without id"),
        (_case_types_entry("active", "true"), "case_types: an entry's active is a string"),
    ],
}
_NOT_JSON: list[tuple[bytes, str]] = [
    (b'{"event_id": "x", "occurred_at": ', "not JSON: truncated"),
    (b"\xff\xfe{}", "not JSON: invalid UTF-8"),
    (b"[1, 2, 3]", "not a JSON object: array"),
    (b"", "not JSON: empty message"),
    (b"kafka says hi", "not JSON: plain text"),
]


def malformed_etj(topic: str, n: int, seed: int) -> list[tuple[bytes, str]]:
    """`n` messages that break the contract of `topic` (an `etj.*` topic), each with why.

    Every fault kind appears once before any repeats.
    """
    if topic not in _FAULTS:
        raise ValueError(f"unknown etj topic {topic!r}")
    rng = random.Random(f"etj-bad-{topic}-{seed}")
    kinds: list[tuple[Mutation, str] | tuple[bytes, str]] = [*_FAULTS[topic], *_NOT_JSON]
    out: list[tuple[bytes, str]] = []
    for i in range(n):
        fault, label = kinds[i % len(kinds)]
        if isinstance(fault, bytes):
            out.append((fault, label))
            continue
        e = _valid(topic, rng)
        fault(e, rng)
        out.append((orjson.dumps(e), label))
    return out
