"""A batch decoded in one go (schemas.events.Decoder.batch) is exactly what
decoding it one message at a time gives: the same accepted events with the
same field values, the same rejects with the same reasons, the same in-batch
duplicates — for valid batches and for batches with any poison message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import orjson
import pytest

from schemas import pipeline
from schemas.events import Decoder, NtjpCall, call_decoder
from schemas.pipeline import Decoded, RawMessage, decode_events
from schemas.topics import ALL_TOPICS, EXAMPLES

CALL = EXAMPLES["ntjp.calls.v1"]


def calls(n: int) -> list[bytes]:
    t0 = dt.datetime(2024, 3, 4, tzinfo=dt.UTC)
    return [
        orjson.dumps(
            {
                **CALL,
                "event_id": f"call-{i}",
                "occurred_at": (t0 + dt.timedelta(seconds=i)).isoformat(),
                "status": "ok" if i % 3 else "error",
                **({"consumer_id": None} if i % 5 == 0 else {}),
            }
        )
        for i in range(n)
    ]


def one_by_one(d: Decoder[Any]) -> Any:
    """The same decoder without its batch path."""
    return lambda raw: d(raw)


def shape(out: Decoded[Any]) -> tuple[Any, ...]:
    return (
        out.next_offset,
        out.start_offset,
        [(m.offset, type(e).__name__, msgspec.structs.asdict(e)) for m, e in out.accepted],
        [(r.message.offset, r.reason) for r in out.rejected],
        out.duplicates,
    )


def messages(values: list[bytes | None]) -> list[RawMessage]:
    return [RawMessage("t", 0, 100 + i, None, v) for i, v in enumerate(values)]


POISON: dict[str, bytes | None] = {
    "null value": None,
    "not json": b"{not json",
    "empty": b"",
    "two objects": orjson.dumps(CALL) + b"," + orjson.dumps({**CALL, "event_id": "x2"}),
    "half an object": orjson.dumps(CALL)[:-1],
    "the other half": b'"status":"ok"}',
    "naive instant": orjson.dumps({**CALL, "occurred_at": "2024-03-04T09:15:00"}),
    "before 2000": orjson.dumps({**CALL, "occurred_at": "1999-12-31T23:59:59Z"}),
    "after 2100": orjson.dumps({**CALL, "occurred_at": "2100-01-01T00:00:00Z"}),
    # the range's edges, in UTC and across offsets (the batch compares POSIX times)
    "last microsecond of 1999": orjson.dumps(
        {**CALL, "occurred_at": "1999-12-31T23:59:59.999999Z"}
    ),
    "2000 by an offset": orjson.dumps({**CALL, "occurred_at": "2000-01-01T01:00:00+01:00"}),
    "1999 by an offset": orjson.dumps({**CALL, "occurred_at": "2000-01-01T00:59:59.999+01:00"}),
    "last microsecond of 2099": orjson.dumps(
        {**CALL, "occurred_at": "2099-12-31T23:59:59.999999Z"}
    ),
    "2100 by an offset": orjson.dumps({**CALL, "occurred_at": "2099-12-31T23:30:00-01:00"}),
    "year 1": orjson.dumps({**CALL, "occurred_at": "0001-01-01T00:00:00+01:00"}),
    "year 9999": orjson.dumps({**CALL, "occurred_at": "9999-12-31T23:59:59-23:59"}),
    "space in id": orjson.dumps({**CALL, "event_id": "a b"}),
    "em space in address": orjson.dumps({**CALL, "logical_address": "SE\u2003x"}),
    "control char in consumer": orjson.dumps({**CALL, "consumer_id": "SE\x01"}),
    "DEL in id": orjson.dumps({**CALL, "event_id": "a\x7f"}),
    "empty consumer": orjson.dumps({**CALL, "consumer_id": ""}),
    "empty id": orjson.dumps({**CALL, "event_id": ""}),
    "long id": orjson.dumps({**CALL, "event_id": "x" * 129}),
    "unknown operation": orjson.dumps({**CALL, "operation": "19121212-1212"}),
    "missing field": orjson.dumps({k: v for k, v in CALL.items() if k != "operation"}),
    "wrong type": orjson.dumps({**CALL, "status": 1}),
    "bad utf-8": orjson.dumps(CALL).replace(b"MakeBooking", b"Make\xffBooking"),
    "oversize": orjson.dumps({**CALL, "event_id": "y" * 100, "pad": "z" * 2000}),
    # the contract's pattern lets `$` match before a final newline: accepted,
    # in a batch as alone
    "newline at the end of an id": orjson.dumps({**CALL, "event_id": "nl\n"}),
    "a repeated id": calls(3)[1],
}


def test_a_valid_batch_takes_the_batch_path_and_equals_one_by_one() -> None:
    d = call_decoder(1024)
    values = calls(500)
    fast = d.batch(values)
    assert fast is not None
    slow = [d(v) for v in values]
    assert [msgspec.structs.asdict(e) for e in fast] == [msgspec.structs.asdict(e) for e in slow]
    assert all(isinstance(e, NtjpCall) for e in fast)
    assert shape(decode_events("t", 0, messages(values), d)) == shape(
        decode_events("t", 0, messages(values), one_by_one(d))
    )


@pytest.mark.parametrize("name", sorted(POISON))
@pytest.mark.parametrize("where", [0, 7, 19])
def test_a_poison_message_anywhere_gives_the_reasons_of_one_by_one(name: str, where: int) -> None:
    d = call_decoder(1024)
    values: list[bytes | None] = list(calls(20))
    values.insert(where, POISON[name])
    got = decode_events("t", 0, messages(values), d)
    want = decode_events("t", 0, messages(values), one_by_one(d))
    # the same events (type names included) and the same rejects and reasons
    assert shape(got) == shape(want)


def test_split_and_merged_messages_are_not_misattributed() -> None:
    """Joined, a message holding two objects and two halves of one give as many
    array elements as messages; each message must still be judged alone."""
    d = call_decoder(1024)
    good = calls(3)
    halves = [orjson.dumps({**CALL, "event_id": "h"})[:40], orjson.dumps(CALL)[40:]]
    values: list[bytes | None] = [good[0], POISON["two objects"], *halves, good[1]]
    assert d.batch(values) is None
    got = decode_events("t", 0, messages(values), d)
    assert [m.offset for m, _ in got.accepted] == [100, 104]
    assert [r.message.offset for r in got.rejected] == [101, 102, 103]


@pytest.mark.parametrize("spec", [s for s in ALL_TOPICS if s.name in EXAMPLES], ids=str)
def test_every_contract_batch_decodes_its_example_as_one_by_one(spec: Any) -> None:
    d = spec.decoder(1 << 20)
    value = orjson.dumps(EXAMPLES[spec.name])
    fast = d.batch([value, value])
    assert fast is not None
    assert [msgspec.structs.asdict(e) for e in fast] == [msgspec.structs.asdict(d(value))] * 2
    assert all(isinstance(e, d.kind) for e in fast)


def test_a_poison_message_sends_only_its_chunk_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "DECODE_CHUNK", 5)
    d = call_decoder(1024)
    values: list[bytes | None] = list(calls(12))
    values.insert(7, POISON["wrong type"])  # in the second chunk of five
    values.append(values[2])  # an id of the first chunk again, in the last
    alone: list[bytes | None] = []

    def counted(v: bytes | None) -> Any:
        alone.append(v)
        return d(v)

    counted.batch = d.batch  # type: ignore[attr-defined]
    got = decode_events("t", 0, messages(values), counted)
    assert alone == values[5:10]  # the poison's chunk, and nothing else, one by one
    assert shape(got) == shape(decode_events("t", 0, messages(values), one_by_one(d)))
    assert got.duplicates == 1 and len(got.rejected) == 1
