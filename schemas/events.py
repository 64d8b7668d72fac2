"""Decoding and validation of the event and reference-record contracts.

The msgspec types below are the single source: the JSON Schema files in this
folder are generated from them (`python -m schemas.export`) and a unit test
keeps the two equal. Decoding is per message but cheap (msgspec, no dict
round trip), so a batch of 20 000 calls validates in a few milliseconds.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Annotated, Any, Generic, Literal, TypeVar

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
_FIRST, _END = EARLIEST.timestamp(), LATEST.timestamp()
_POSIX = dt.datetime.timestamp


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
        # For whole batches: the same type with its top-level string patterns
        # checked on the column instead of per value (see `batch`).
        fast, self._patterns = _unpatterned(kind, instants)
        self._fast = msgspec.json.Decoder(fast)

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

    def batch(self, raws: Sequence[bytes | None]) -> list[T] | None:
        """Every one of `raws` decoded, or None if any one of them would be
        rejected by `__call__` (the caller then decodes them one by one, to
        learn which and why: the reasons are `__call__`'s alone).

        The fast path of a valid batch: the C decoder runs over the values
        without a Python frame per message, and the rules that cost most per
        value in msgspec (string patterns, the instants' range) are checked
        once on each column. It accepts only what `__call__` accepts, with
        equal field values; the records are of a subclass of `kind` (without
        the patterns, which were checked here)."""
        if not raws:
            return []
        try:
            if max(map(len, raws)) > self._max_bytes:  # type: ignore[arg-type]
                return None  # (a None value raises TypeError here)
            records: list[T] = list(map(self._fast.decode, raws))  # type: ignore[arg-type]
            for name, optional, pattern, forbidden in self._patterns:
                col = list(map(attrgetter(name), records))
                if optional:
                    col = [v for v in col if v is not None]
                if forbidden is not None:
                    # `^[^X]+$` holds for every value iff none is empty and no
                    # value holds a character of X: one search over all of them
                    if "" in col or forbidden.search("".join(col)) is not None:
                        return None
                elif not all(map(pattern.search, col)):
                    return None
            for name in self._instants:
                # Aware (the fast type refuses a naive instant), so each one's
                # POSIX time is exact to the microsecond in a float from 2000 to
                # 2100, and floats compare without an offset lookup per pair
                # (mixed offsets made min/max of the datetimes 3x dearer).
                col = [v for v in map(attrgetter(name), records) if v is not None]
                times = list(map(_POSIX, col))
                if times and not (min(times) >= _FIRST and max(times) < _END):
                    return None
            if self._check is not None:
                for record in records:
                    self._check(record)
        except Exception:  # noqa: BLE001 - any doubt: one by one, as __call__ decides
            return None
        return records


# (field, optional, its pattern, the characters a `^[^X]+$` pattern forbids)
_Pattern = tuple[str, bool, re.Pattern[str], re.Pattern[str] | None]
_NEGATED_CLASS = re.compile(r"^\^\[\^([^\[\]]+)\]\+\$$")


def _unpatterned(kind: type[T], instants: tuple[str, ...] = ()) -> tuple[type[T], list[_Pattern]]:
    """`kind` with the patterns of its top-level string fields (optional or
    not) left out, as a subclass, and those patterns; `kind` itself if it has
    none. msgspec runs a pattern as a Python `re.search` per value, which
    costs more than the rest of decoding a call together. The `instants`
    become aware-only (`tz=True`), so that the batch may check their range as
    POSIX times."""
    fields: list[tuple[str, Any, Any]] = []
    patterns: list[_Pattern] = []
    for f in msgspec.structs.fields(kind):
        optional = False
        t = f.type
        if typing.get_origin(t) in (typing.Union, types.UnionType):
            rest = [a for a in typing.get_args(t) if a is not type(None)]
            if len(rest) != 1 or len(typing.get_args(t)) != 2:
                continue
            optional, t = True, rest[0]
        if f.name in instants and t is dt.datetime:
            tz: Any = Annotated[dt.datetime, msgspec.Meta(tz=True)]
            fields.append((f.name, tz | None if optional else tz, _default_of(f)))
            continue
        if typing.get_origin(t) is not Annotated:
            continue
        base, *metas = typing.get_args(t)
        found = [m.pattern for m in metas if isinstance(m, msgspec.Meta) and m.pattern]
        if base is not str or len(found) != 1:
            continue
        kept = [_without_pattern(m) if isinstance(m, msgspec.Meta) else m for m in metas]
        relaxed: Any = Annotated[(str, *kept)] if kept else str
        if optional:
            relaxed = relaxed | None
        fields.append((f.name, relaxed, _default_of(f)))
        negated = _NEGATED_CLASS.match(found[0])
        forbidden = re.compile(f"[{negated.group(1)}]") if negated else None
        patterns.append((f.name, optional, re.compile(found[0]), forbidden))
    aware = {n for n, _, _ in fields} & set(instants)
    if aware != set(instants):  # a naive value's POSIX time would be its local time
        raise TypeError(f"{kind.__name__}: instants {sorted(set(instants) - aware)} not datetimes")
    if not fields:
        return kind, []
    spec = [(n, t) if d is msgspec.NODEFAULT else (n, t, d) for n, t, d in fields]
    config = kind.__struct_config__
    fast = msgspec.defstruct(
        kind.__name__, spec, bases=(kind,), module=kind.__module__,
        frozen=config.frozen, forbid_unknown_fields=config.forbid_unknown_fields,
    )  # fmt: skip
    return fast, patterns  # type: ignore[return-value]


def _default_of(f: msgspec.structs.FieldInfo) -> Any:
    if f.default_factory is not msgspec.NODEFAULT:
        return msgspec.field(default_factory=f.default_factory)
    return f.default


def _without_pattern(meta: msgspec.Meta) -> msgspec.Meta:
    keep = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "tz")
    return msgspec.Meta(**{k: getattr(meta, k) for k in keep if getattr(meta, k) is not None})


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
