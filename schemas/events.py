"""Decoding and validation of the event and reference-record contracts.

The msgspec types below are the single source: the JSON Schema files in this
folder are generated from them (`python -m schemas.export`) and a unit test
keeps the two equal. Decoding is per message but cheap (msgspec, no dict
round trip), so a batch of 20 000 calls validates in a few milliseconds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Generic, Literal, TypeVar

import msgspec
import msgspec.inspect as mi

from core import personnummer
from core.errors import ValidationError
from schemas.counties import COUNTIES

# Identifiers are printable, without white space or control characters, so a
# NUL byte or a newline smuggled into an id is refused rather than stored.
_ID_PATTERN = r"^[^\s\x00-\x1f\x7f]+$"
EventId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=_ID_PATTERN)]
HsaId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=_ID_PATTERN)]
CountyCode = Annotated[str, msgspec.Meta(pattern="^(" + "|".join(COUNTIES) + ")$")]
Name = Annotated[str, msgspec.Meta(max_length=512)]

CALL_OPERATIONS: tuple[str, ...] = (
    "MakeBooking",
    "CancelBooking",
    "UpdateBooking",
    "GetSubjectOfCareSchedule",
    "GetAvailableDates",
    "GetAvailableTimeslots",
    "GetAllTimeTypes",
)
Operation = Literal[
    "MakeBooking",
    "CancelBooking",
    "UpdateBooking",
    "GetSubjectOfCareSchedule",
    "GetAvailableDates",
    "GetAvailableTimeslots",
    "GetAllTimeTypes",
]

# Timestamps outside this window cannot be a real call and would land in a
# partition nobody reads; DateTime64 also has limits of its own.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


class NtjpCall(msgspec.Struct, frozen=True):
    """`ntjp.calls.v1`: one call through the national service platform."""

    event_id: EventId
    occurred_at: dt.datetime
    operation: Operation
    logical_address: HsaId
    consumer_id: HsaId | None = None
    status: Literal["ok", "error"] = "ok"


class HsaUnit(msgspec.Struct, frozen=True):
    """`hsa.units.v1`: a unit or care provider of the HSA catalogue."""

    hsa_id: HsaId
    name: Name
    kind: Literal["unit", "care_provider"]
    county_code: CountyCode
    updated_at: dt.datetime
    care_provider_id: HsaId | None = None


class HsaPerson(msgspec.Struct, frozen=True):
    """`hsa.persons.v1`: a staff member's name, for logged-in reports only."""

    hsa_id: HsaId
    given_name: Name
    family_name: Name
    care_provider_id: HsaId


class NtjpRouting(msgspec.Struct, frozen=True):
    """`ntjp.routing.v1`: a service contract's routing for a unit."""

    logical_address: HsaId
    operation: Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=_ID_PATTERN)]
    active_from: dt.date
    active_to: dt.date | None = None


class ScbPopulation(msgspec.Struct, frozen=True):
    """`scb.population.v1`: inhabitants of a county on 1 January of `year`."""

    county_code: CountyCode
    year: Annotated[int, msgspec.Meta(ge=1900, le=2200)]
    population: Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]


class SobTransaction(msgspec.Struct, frozen=True):
    """`sob.transactions.v1`: one status change of a case in the support-and-treatment
    platform. `patient_id` is a personal identity number: validated, never echoed."""

    event_id: EventId
    occurred_at: dt.datetime
    case_id: EventId
    case_type: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=_ID_PATTERN)]
    status: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=_ID_PATTERN)]
    process_name: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    moment_name: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    care_provider_id: HsaId
    care_unit_id: HsaId
    practitioner_id: HsaId | None = None
    patient_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{12}$")] | None = None
    patient_gender: Literal["F", "M", "U"] | None = None
    patient_age: Annotated[int, msgspec.Meta(ge=0, le=130)] | None = None
    closing_reason: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None


_PATH = re.compile(r" - at `\$\.?([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]*)`")


def _field_of(message: str) -> str | None:
    m = _MISSING.search(message) or _PATH.search(message)
    return m.group(1) or None if m else None


_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def allowed_values(kind: type, path: str) -> tuple[str, ...] | None:
    """The values an enum (Literal) field at `path` ("status",
    "case_types[0].kind") of `kind` accepts, or None when it is not one."""
    t: mi.Type = mi.type_info(kind)
    for name, index in _SEGMENT.findall("." + path):
        t = _unwrap(t)
        if name and isinstance(t, mi.StructType):
            found = [f.type for f in t.fields if f.encode_name == name]
            if not found:
                return None
            t = found[0]
        elif index and isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
            t = t.item_type
        else:
            return None
    t = _unwrap(t)
    return tuple(str(v) for v in t.values) if isinstance(t, mi.LiteralType) else None


def _unwrap(t: mi.Type) -> mi.Type:
    """An optional type's non-null part."""
    if isinstance(t, mi.UnionType):
        rest = [x for x in t.types if not isinstance(x, mi.NoneType)]
        if len(rest) == 1:
            return rest[0]
    return t


def _reason(exc: msgspec.MsgspecError, kind: type | None = None) -> str:
    # A rejected value is never repeated: msgspec echoes it for enum fields
    # ("Invalid enum value '19121212 1212'"), and a personal identity number
    # typed into the wrong field must not reach a DLQ header, the dead_letters
    # table or a log line. Such errors name the field and what it accepts; every
    # reason is redacted besides (core.personnummer.redact), and long ones
    # are cut so headers stay small.
    text = str(exc)
    if text.startswith("Invalid enum value"):
        path = _field_of(text) or ""
        allowed = allowed_values(kind, path) if kind is not None and path else None
        where = path or "a field"
        text = (
            f"{where}: not one of the allowed values ({', '.join(allowed)})"
            if allowed
            else f"{where}: not one of the allowed values (see the topic's JSON Schema)"
        )
    text = personnummer.redact(text)
    return text if len(text) <= 300 else text[:297] + "..."


def _check_instant(value: dt.datetime, field: str) -> None:
    if value.tzinfo is None:
        raise ValidationError(f"{field}: RFC 3339 timestamp needs an offset or Z", field)
    if not EARLIEST <= value < LATEST:
        raise ValidationError(f"{field}: timestamp outside 2000-01-01..2100-01-01", field)


T = TypeVar("T", bound=msgspec.Struct)


class Decoder(Generic[T]):
    """Decode raw message bytes into one contract type, or raise ValidationError."""

    def __init__(
        self,
        kind: type[T],
        max_bytes: int,
        instants: tuple[str, ...] = (),
        check: Callable[[T], None] | None = None,
    ) -> None:
        self._decoder = msgspec.json.Decoder(kind)
        self._max_bytes = max_bytes
        self._instants = instants
        # Rules a type cannot say (check digits, cross-field rules), per topic.
        self._check = check
        self.kind = kind

    def with_kind(self, kind: type[T]) -> Decoder[T]:
        """The same rules over another type (a contract extended for this
        deployment: schemas/extensions.py)."""
        return Decoder(kind, self._max_bytes, self._instants, self._check)

    def __call__(self, raw: bytes | None) -> T:
        if raw is None:
            raise ValidationError("empty message (null value) where a record was expected")
        if len(raw) > self._max_bytes:
            raise ValidationError(
                f"message of {len(raw)} bytes exceeds the limit of {self._max_bytes} bytes"
            )
        try:
            record = self._decoder.decode(raw)
        except msgspec.ValidationError as exc:
            raise ValidationError(_reason(exc, self.kind), _field_of(str(exc))) from None
        except msgspec.DecodeError as exc:
            raise ValidationError(f"not valid JSON: {_reason(exc)}") from None
        except UnicodeDecodeError as exc:
            raise ValidationError(f"not valid UTF-8 (byte {exc.start} of a string)") from None
        for name in self._instants:
            value = getattr(record, name)
            if value is not None:
                _check_instant(value, name)
        if self._check is not None:
            self._check(record)
        return record


def _check_patient(t: SobTransaction) -> None:
    if t.patient_id is not None and (why := personnummer.problem(t.patient_id)) is not None:
        raise ValidationError(
            f"patient_id: not a valid personal identity number: {why}", "patient_id"
        )


def call_decoder(max_bytes: int) -> Decoder[NtjpCall]:
    return Decoder(NtjpCall, max_bytes, instants=("occurred_at",))


def unit_decoder(max_bytes: int) -> Decoder[HsaUnit]:
    return Decoder(HsaUnit, max_bytes, instants=("updated_at",))


def person_decoder(max_bytes: int) -> Decoder[HsaPerson]:
    return Decoder(HsaPerson, max_bytes)


def routing_decoder(max_bytes: int) -> Decoder[NtjpRouting]:
    return Decoder(NtjpRouting, max_bytes)


def population_decoder(max_bytes: int) -> Decoder[ScbPopulation]:
    return Decoder(ScbPopulation, max_bytes)


def sob_decoder(max_bytes: int) -> Decoder[SobTransaction]:
    return Decoder(SobTransaction, max_bytes, instants=("occurred_at",), check=_check_patient)


# One valid example message per topic, shown to publishing teams in the
# AsyncAPI document (tests/unit/test_asyncapi.py decodes each with its contract,
# so an example can never drift from what statflow accepts).
CALL_EXAMPLE: dict[str, object] = {
    "event_id": "3f0c9a1e-ntjp-0001",
    "occurred_at": "2024-03-04T09:15:00+01:00",
    "operation": "MakeBooking",
    "logical_address": "SE2321000016-7P35",
    "consumer_id": "SE2321000016-1177",
    "status": "ok",
}

SOB_EXAMPLE: dict[str, object] = {
    "event_id": "sob-0001",
    "occurred_at": "2024-03-04T09:15:00+01:00",
    "case_id": "case-0001",
    "case_type": "remiss",
    "status": "open",
    "process_name": "Remisshantering",
    "moment_name": "Mottagen",
    "care_provider_id": "SE2321000016-0001",
    "care_unit_id": "SE2321000016-7P35",
    "patient_age": 54,
}

UNIT_EXAMPLE: dict[str, object] = {
    "hsa_id": "SE2321000016-7P35",
    "name": "Vårdcentral Exempel",
    "kind": "unit",
    "county_code": "01",
    "updated_at": "2024-03-01T00:00:00Z",
    "care_provider_id": "SE2321000016-0001",
}

PERSON_EXAMPLE: dict[str, object] = {
    "hsa_id": "SE2321000016-P001",
    "given_name": "Anna",
    "family_name": "Exempel",
    "care_provider_id": "SE2321000016-0001",
}

ROUTING_EXAMPLE: dict[str, object] = {
    "logical_address": "SE2321000016-7P35",
    "operation": "MakeBooking",
    "active_from": "2024-01-01",
    "active_to": None,
}

POPULATION_EXAMPLE: dict[str, object] = {"county_code": "01", "year": 2024, "population": 2454821}
