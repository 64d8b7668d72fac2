"""The exactly-once baseline's decoding: the contract's struct decides."""

import msgspec
import pytest

from bench import baseline

CALL = (
    b'{"event_id":"%s","occurred_at":"2024-03-01T10:00:00+01:00",'
    b'"operation":"MakeBooking","logical_address":"SE2321000016-A1"}'
)


def test_a_valid_getmany_becomes_one_table_in_utc() -> None:
    t = baseline.validated_batch([CALL % b"a-1", CALL % b"a-2"], [0, 1], [7, 9])
    assert t.column("event_id").to_pylist() == ["a-1", "a-2"]
    assert t.column("source_partition").to_pylist() == [0, 1]
    assert t.column("source_offset").to_pylist() == [7, 9]
    assert t.column("status").to_pylist() == ["ok", "ok"]
    assert t.column("occurred_at")[0].as_py().hour == 9  # +01:00 stored as UTC


@pytest.mark.parametrize(
    "bad",
    [
        b"{",
        b'{"event_id":"x"}',
        CALL.replace(b"MakeBooking", b"DropTables") % b"a-3",
    ],
)
def test_a_message_the_contract_refuses_fails_the_batch(bad: bytes) -> None:
    with pytest.raises((msgspec.ValidationError, msgspec.DecodeError)):
        baseline.validated_batch([CALL % b"a-1", bad], [0, 0], [1, 2])


def test_the_exactly_once_ddl_adds_checkpoints_and_batch_tokens() -> None:
    plain = baseline.raw_ddl(views=True)
    once = baseline.raw_ddl(views=True, once=True)
    assert len(once) == len(plain) + 2
    assert any("batch_token" in s for s in once)
    assert any("ingest_checkpoints" in s for s in once)
