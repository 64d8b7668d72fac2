"""Contracts of the 1177 e-services topics (`etj.*`, seed 004).

Same decoding path as the other topics (`schemas.events.Decoder`); the rules a
type cannot say (a standard case type must be one of the standard ids, an
account id must not be a personal identity number) are `check` hooks.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

import msgspec

from core import personnummer
from core.errors import ValidationError
from schemas.events import CountyCode, Decoder, EventId, HsaId, Name

# Stable ids from REPORTS.md, in its order (report axes follow it).
STANDARD_CASE_TYPES: tuple[str, ...] = (
    "boka-tid",
    "av-omboka-tid",
    "bestall-tid",
    "fornya-recept",
    "kontakta-mottagningen",
    "radgivning",
    "bestall-intyg",
    "provsvar",
    "remiss",
    "lakemedelsfraga",
    "egenvard",
    "uppdatera-kontaktuppgifter",
)
CASE_TYPE_LABELS: dict[str, str] = {
    "boka-tid": "Boka tid",
    "av-omboka-tid": "Av-/omboka tid",
    "bestall-tid": "Beställ tid",
    "fornya-recept": "Förnya recept",
    "kontakta-mottagningen": "Kontakta mottagningen",
    "radgivning": "Rådgivning",
    "bestall-intyg": "Beställ intyg",
    "provsvar": "Provsvar",
    "remiss": "Remiss",
    "lakemedelsfraga": "Läkemedelsfråga",
    "egenvard": "Egenvård",
    "uppdatera-kontaktuppgifter": "Uppdatera kontaktuppgifter",
}
CASE_EVENTS = ("received", "assigned", "started", "answered", "closed")
CARE_TYPES = ("primarvard", "specialistvard", "tandvard", "psykiatri", "kommunal", "ovrig")
ACTORS = ("resident", "staff")
LOGIN_METHODS = ("bankid", "freja", "siths", "password", "unknown")

_ID = r"^[^\s\x00-\x1f\x7f]+$"
CaseTypeId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=_ID)]
AccountId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=_ID)]
Kind = Literal["standard", "own", "integration"]
Actor = Literal["resident", "staff"]


class EtjCase(msgspec.Struct, frozen=True):
    """`etj.cases.v1`: one event in the life of a 1177 e-services case."""

    event_id: EventId
    occurred_at: dt.datetime
    case_id: EventId
    unit_id: HsaId
    case_type: CaseTypeId
    case_type_kind: Kind
    event: Literal["received", "assigned", "started", "answered", "closed"]
    assignee_id: HsaId | None = None


class EtjLogin(msgspec.Struct, frozen=True):
    """`etj.logins.v1`: one successful login. `account_id` is opaque, never a
    personal identity number."""

    event_id: EventId
    occurred_at: dt.datetime
    account_id: AccountId
    actor: Actor
    method: Literal["bankid", "freja", "siths", "password", "unknown"]
    county_code: CountyCode | None = None


class EtjAccount(msgspec.Struct, frozen=True):
    """`etj.accounts.v1` (compacted): a registered account; `deleted_at` or a
    tombstone ends it."""

    account_id: AccountId
    actor: Actor
    created_at: dt.datetime
    deleted_at: dt.datetime | None = None


class CaseTypeEntry(msgspec.Struct, frozen=True):
    id: CaseTypeId
    kind: Kind
    active: bool


class EtjUnit(msgspec.Struct, frozen=True):
    """`etj.units.v1` (compacted): a unit connected to the e-services, with its
    case-type configuration."""

    unit_id: HsaId
    name: Name
    care_provider_id: HsaId
    county_code: CountyCode
    care_type: Literal["primarvard", "specialistvard", "tandvard", "psykiatri", "kommunal", "ovrig"]
    activated_on: dt.date
    active: bool
    case_types: list[CaseTypeEntry]


_PNR_LIKE = re.compile(r"^(\d{2})?(\d{6})[-+]?(\d{4})$")


def looks_like_personnummer(value: str) -> bool:
    """A valid personal identity number in any usual form (12 or 10 digits,
    with or without a separator); opaque ids must never be one."""
    m = _PNR_LIKE.match(value)
    if not m:
        return False
    rest = m.group(2) + m.group(3)
    candidates = [m.group(1) + rest] if m.group(1) else ["19" + rest, "20" + rest]
    return any(personnummer.problem(c) is None for c in candidates)


def _check_account_id(account_id: str) -> None:
    if looks_like_personnummer(account_id):
        raise ValidationError(
            "account_id: is a personal identity number; accounts must be opaque ids",
            "account_id",
        )


def _check_case(c: EtjCase) -> None:
    if c.case_type_kind == "standard" and c.case_type not in STANDARD_CASE_TYPES:
        raise ValidationError(
            "case_type: a standard case type must be one of the standard ids of REPORTS.md "
            "(use case_type_kind own or integration for others)",
            "case_type",
        )


def _check_login(e: EtjLogin) -> None:
    _check_account_id(e.account_id)


def _check_account(a: EtjAccount) -> None:
    _check_account_id(a.account_id)


def case_decoder(max_bytes: int) -> Decoder[EtjCase]:
    return Decoder(EtjCase, max_bytes, instants=("occurred_at",), check=_check_case)


def login_decoder(max_bytes: int) -> Decoder[EtjLogin]:
    return Decoder(EtjLogin, max_bytes, instants=("occurred_at",), check=_check_login)


def account_decoder(max_bytes: int) -> Decoder[EtjAccount]:
    return Decoder(
        EtjAccount, max_bytes, instants=("created_at", "deleted_at"), check=_check_account
    )


def etj_unit_decoder(max_bytes: int) -> Decoder[EtjUnit]:
    return Decoder(EtjUnit, max_bytes)


# One valid example message per topic, shown to publishing teams in the
# AsyncAPI document (tests/unit/test_asyncapi.py decodes each with its contract,
# so an example can never drift from what statflow accepts).
CASE_EXAMPLE: dict[str, object] = {
    "event_id": "etj-case-0001-received",
    "occurred_at": "2024-03-04T09:15:00+01:00",
    "case_id": "etj-case-0001",
    "unit_id": "SE2321000016-7P35",
    "case_type": "boka-tid",
    "case_type_kind": "standard",
    "event": "received",
}

LOGIN_EXAMPLE: dict[str, object] = {
    "event_id": "etj-login-0001",
    "occurred_at": "2024-03-04T09:14:00+01:00",
    "account_id": "acct-7f3a9c",
    "actor": "resident",
    "method": "bankid",
    "county_code": "01",
}

ACCOUNT_EXAMPLE: dict[str, object] = {
    "account_id": "acct-7f3a9c",
    "actor": "resident",
    "created_at": "2023-11-02T12:00:00Z",
    "deleted_at": None,
}

ETJ_UNIT_EXAMPLE: dict[str, object] = {
    "unit_id": "SE2321000016-7P35",
    "name": "Vårdcentral Exempel",
    "care_provider_id": "SE2321000016-0001",
    "county_code": "01",
    "care_type": "primarvard",
    "activated_on": "2023-01-01",
    "active": True,
    "case_types": [{"id": "boka-tid", "kind": "standard", "active": True}],
}
