"""No personal identity number, in any form the population register writes it,
survives into a DLQ reason or a log line (issue 15, item 5)."""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import orjson
import pytest

from core import personnummer
from core.errors import ValidationError
from core.logs import JsonFormatter
from schemas.etj import case_decoder, etj_unit_decoder, login_decoder
from schemas.events import allowed_values, call_decoder, sob_decoder, unit_decoder
from schemas.pipeline import RawMessage, Rejected, decode_events

# Tolvan Tolvansson (Skatteverket's test person) and a coordination number
# (day + 60), in every written form: 12 or 10 digits; hyphen, plus (100 years
# or older), space, en dash or nothing between the date and the last four.
NUMBERS = ("191212121212", "197010632391")


def forms(number: str) -> list[str]:
    long, short, last = number[:8], number[2:8], number[8:]
    out = []
    for date in (long, short):
        for sep in ("", "-", "+", " ", "\u2013"):
            out.append(date + sep + last)
    return out


ALL_FORMS = [f for n in NUMBERS for f in forms(n)]
# What must not remain of a number: any 4+ digit piece of it (the century
# "19" alone may stay only if it is not followed by the rest).
PIECES = re.compile(r"\d{4,}")


def leftovers(text: str, form: str) -> list[str]:
    digits = re.sub(r"\D", "", form)
    return [p for p in PIECES.findall(text) if p in digits or digits in p]


@pytest.mark.parametrize("form", ALL_FORMS)
@pytest.mark.parametrize("context", ["{}", "x{}y", "'{}'", "value {} - at `$.status`", "({})."])
def test_redact_takes_every_form_whole(form: str, context: str) -> None:
    text = personnummer.redact(context.format(form))
    assert personnummer.REDACTED in text
    assert not leftovers(text, form), text
    assert not re.search(r"\d{2}<redacted>|<redacted>\d", text), "a piece stays beside it"


def test_redact_keeps_what_is_not_a_number() -> None:
    for text in ("2024-01-01T10:00:00Z", "offset 12345", "case_types[0].kind", "F, M, U",
                 "message of 70000 bytes exceeds the limit of 65536 bytes"):  # fmt: skip
        assert personnummer.redact(text) == text


BASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "sob": (sob_decoder(65536), {
        "event_id": "e1", "occurred_at": "2024-01-01T10:00:00Z", "case_id": "c1",
        "case_type": "t", "status": "Inprogress", "process_name": "p", "moment_name": "m",
        "care_provider_id": "SE1", "care_unit_id": "SE1-U",
    }),
    "call": (call_decoder(65536), {
        "event_id": "e1", "occurred_at": "2024-01-01T10:00:00Z", "operation": "MakeBooking",
        "logical_address": "SE1-U",
    }),
    "unit": (unit_decoder(65536), {
        "hsa_id": "SE1-U", "name": "n", "kind": "unit", "county_code": "01",
        "updated_at": "2024-01-01T10:00:00Z",
    }),
    "etj_case": (case_decoder(65536), {
        "event_id": "e1", "occurred_at": "2024-01-01T10:00:00Z", "case_id": "c1",
        "unit_id": "SE1-U", "case_type": "boka-tid", "case_type_kind": "standard",
        "event": "received",
    }),
    "etj_login": (login_decoder(65536), {
        "event_id": "e1", "occurred_at": "2024-01-01T10:00:00Z", "account_id": "a1",
        "actor": "resident", "method": "bankid",
    }),
}  # fmt: skip
# Enum fields, and the fields where a number is refused by pattern or type.
WRONG_FIELDS = {
    "sob": ["patient_gender", "status", "patient_id", "patient_age", "case_type", "event_id"],
    "call": ["operation", "status", "logical_address", "event_id"],
    "unit": ["kind", "county_code", "hsa_id"],
    "etj_case": ["event", "case_type_kind", "unit_id"],
    "etj_login": ["actor", "method", "account_id"],
}


@pytest.mark.parametrize("form", ALL_FORMS)
@pytest.mark.parametrize("topic", sorted(WRONG_FIELDS))
def test_no_decoder_reason_repeats_a_number(topic: str, form: str) -> None:
    decode, base = BASES[topic]
    decode(orjson.dumps(base))  # the base record itself is valid
    for field in WRONG_FIELDS[topic]:
        for value in (form, [form], {"x": form}):
            try:
                decode(orjson.dumps({**base, field: value}))
            except ValidationError as exc:
                assert not leftovers(str(exc), form), (field, str(exc))
            # some fields accept any printable id: then nothing to echo


@pytest.mark.parametrize("form", ["19121212 1212", "121212 1212", "19121212-1212", "Booking"])
def test_an_enum_reason_names_the_field_and_what_it_accepts_never_the_value(form: str) -> None:
    decode, base = BASES["call"]
    with pytest.raises(ValidationError) as caught:
        decode(orjson.dumps({**base, "operation": form}))
    reason = str(caught.value)
    assert f"'{form}'" not in reason and "<redacted>" not in reason
    assert reason.startswith("operation: not one of the allowed values (")
    assert "MakeBooking" in reason and caught.value.field == "operation"


def test_a_nested_enum_names_its_path() -> None:
    unit = {"unit_id": "U", "name": "n", "care_provider_id": "C", "county_code": "01",
            "care_type": "primarvard", "activated_on": "2020-01-01", "active": True,
            "case_types": [{"id": "x", "kind": "19121212 1212", "active": True}]}  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        etj_unit_decoder(65536)(orjson.dumps(unit))
    assert str(caught.value) == (
        "case_types[0].kind: not one of the allowed values (integration, own, standard)"
    )


def test_allowed_values_resolves_optional_and_nested_fields_only_for_enums() -> None:
    from schemas.etj import EtjUnit
    from schemas.events import SobTransaction

    assert allowed_values(SobTransaction, "patient_gender") == ("F", "M", "U")
    assert allowed_values(EtjUnit, "case_types[3].kind") == ("integration", "own", "standard")
    assert allowed_values(SobTransaction, "patient_id") is None
    assert allowed_values(SobTransaction, "nope") is None
    assert allowed_values(SobTransaction, "patient_gender[0]") is None


@pytest.mark.parametrize("form", ALL_FORMS)
def test_every_rejected_reason_is_redacted_whatever_made_it(form: str) -> None:
    msg = RawMessage("t", 0, 7, None, b"{}")
    assert not leftovers(Rejected(msg, f"bad value '{form}'").reason, form)

    def decode(raw: bytes | None) -> Any:
        raise ValidationError(f"a check quoting {form}")

    out = decode_events("t", 0, [msg], decode)
    assert not leftovers(out.rejected[0].reason, form)


@pytest.mark.parametrize("form", ALL_FORMS)
def test_log_lines_are_redacted(form: str) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("test-redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("write failed for %s", form, extra={"error": f"Cannot parse '{form}'",
                                                         "offset": 1234567890123})  # fmt: skip
        try:
            raise ValueError(f"refused {form}")
        except ValueError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert text.count("<redacted>") == 3, text  # the message, an extra, the exception
    assert not leftovers(text.replace("1234567890123", ""), form), text
    assert '"offset":1234567890123' in text, "numbers in extras are not text: kept"
