import datetime as dt

import pytest

from core.errors import ValidationError
from schemas import export
from schemas.events import call_decoder, unit_decoder
from schemas.topics import CONTRACT_TYPES

GOOD = (
    b'{"event_id":"e1","occurred_at":"2024-03-31T01:30:00+01:00","operation":"MakeBooking",'
    b'"logical_address":"SE2321000016-7P35"}'
)


def call(**fields: object) -> bytes:
    import orjson

    base = orjson.loads(GOOD)
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


def test_a_valid_call_decodes_with_defaults() -> None:
    c = call_decoder(65536)(GOOD)
    assert c.status == "ok" and c.consumer_id is None
    assert c.occurred_at.astimezone(dt.UTC) == dt.datetime(2024, 3, 31, 0, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (call(event_id=...), "event_id"),
        (call(event_id=""), "event_id"),
        (call(event_id="x" * 129), "event_id"),
        (call(event_id=123), "event_id"),
        (call(event_id="a\u0000b"), "event_id"),
        (call(operation="BookSomething"), "operation"),
        (call(occurred_at="2024-13-01T00:00:00Z"), "occurred_at"),
        (call(occurred_at="2024-01-01T10:00:00"), "occurred_at"),
        (call(occurred_at=1700000000), "occurred_at"),
        (call(occurred_at="1899-01-01T00:00:00Z"), "occurred_at"),
        (call(status="maybe"), "status"),
        (call(logical_address="has space"), "logical_address"),
    ],
)
def test_contract_violations_name_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        call_decoder(65536)(raw)
    assert err.value.field == field
    assert field in str(err.value)


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe{}", b"[1,2]", b"null", GOOD[:-5], b'"text"'])
def test_not_json_or_not_an_object_is_refused(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        call_decoder(65536)(raw)


def test_oversize_is_refused_before_parsing() -> None:
    with pytest.raises(ValidationError, match="exceeds the limit"):
        call_decoder(100)(GOOD + b" " * 200)


def test_null_value_is_refused() -> None:
    with pytest.raises(ValidationError, match="null value"):
        call_decoder(100)(None)


def test_unknown_fields_are_allowed_so_producers_can_extend() -> None:
    assert call_decoder(65536)(call(new_field="x")).event_id == "e1"


def test_unit_county_must_be_an_scb_code() -> None:
    raw = (
        b'{"hsa_id":"SE1","name":"A","kind":"unit","county_code":"02",'
        b'"updated_at":"2024-01-01T00:00:00Z"}'
    )
    with pytest.raises(ValidationError) as err:
        unit_decoder(65536)(raw)
    assert err.value.field == "county_code"


@pytest.mark.parametrize("topic", list(CONTRACT_TYPES))
def test_committed_json_schema_files_match_the_types(topic: str) -> None:
    path = export.HERE / f"{topic}.schema.json"
    assert path.read_text("utf-8") == export.render(topic), "run: python -m schemas.export"
