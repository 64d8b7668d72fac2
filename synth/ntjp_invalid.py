"""Synthetic web-booking (webbtidbokning) data, the malformed messages: raw
values that break `ntjp.calls.v1` (bad JSON, wrong types, missing fields, bad
timestamps, invalid UTF-8, oversize), each with what is wrong. Deterministic
in the seed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Sequence
from typing import Any

from synth.ntjp import _CONSUMERS, OPERATIONS, rfc3339
from synth.ntjp_world import _REGIONS, _suffix
from synth.timing import uuid4


def _valid_call(rng: random.Random) -> dict[str, Any]:
    org = rng.choice(list(_REGIONS.values()))[0]
    t = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(10**7))
    return {
        "event_id": uuid4(rng),
        "occurred_at": rfc3339(t, rng),
        "operation": rng.choice(OPERATIONS),
        "logical_address": f"SE{org}-{_suffix(rng)}",
        "consumer_id": _CONSUMERS[0][0],
        "status": "ok",
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _with(name: str, value: Any) -> Callable[[random.Random], bytes]:
    return lambda rng: _dumps({**_valid_call(rng), name: value})


def _with_choice(name: str, values: Sequence[Any]) -> Callable[[random.Random], bytes]:
    return lambda rng: _dumps({**_valid_call(rng), name: rng.choice(values)})


def _without(name: str) -> Callable[[random.Random], bytes]:
    def make(rng: random.Random) -> bytes:
        call = _valid_call(rng)
        del call[name]
        return _dumps(call)

    return make


def _truncated(rng: random.Random) -> bytes:
    # Any strict prefix of a JSON object misses at least its closing brace.
    raw = _dumps(_valid_call(rng))
    return raw[: rng.randrange(1, len(raw) - 1)]


def _invalid_utf8(rng: random.Random) -> bytes:
    call = _valid_call(rng)
    name = rng.choice(("event_id", "logical_address", "consumer_id"))
    marker = "\u0001MARK\u0001"
    call[name] = call[name][:6] + marker + call[name][6:]
    bad = rng.choice((b"\xff", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82"))
    return _dumps(call).replace(b"\\u0001MARK\\u0001", bad)


def _oversize(rng: random.Random) -> bytes:
    # Valid in every other way: only the size (> 64 KiB) is wrong.
    return _dumps({**_valid_call(rng), "note": "x" * (64 * 1024 + rng.randrange(1, 4096))})


def _replace(old: bytes, new: bytes) -> Callable[[random.Random], bytes]:
    return lambda rng: _dumps(_valid_call(rng)).replace(old, new, 1)


def _two_objects(rng: random.Random) -> bytes:
    return _dumps(_valid_call(rng)) + _dumps(_valid_call(rng))


def _csv_line(rng: random.Random) -> bytes:
    call = _valid_call(rng)
    return ",".join(str(call[k]) for k in ("event_id", "occurred_at", "operation")).encode()


_MALFORMED: tuple[tuple[str, Callable[[random.Random], bytes]], ...] = (
    ("bad JSON: unquoted key", _replace(b'"event_id"', b"event_id")),
    ("bad JSON: single quotes", lambda rng: _dumps(_valid_call(rng)).replace(b'"', b"'")),
    ("bad JSON: trailing comma", lambda rng: _dumps(_valid_call(rng))[:-1] + b",}"),
    ("bad JSON: two objects in one message", _two_objects),
    ("bad JSON: NaN", _replace(b'"status": "ok"', b'"status": NaN')),
    ("not JSON: a CSV line", _csv_line),
    ("truncated JSON", _truncated),
    ("empty message", lambda rng: b""),
    ("JSON array instead of object", lambda rng: _dumps([_valid_call(rng)])),
    ("JSON string instead of object", lambda rng: _dumps(_valid_call(rng)["event_id"])),
    ("JSON null instead of object", lambda rng: b"null"),
    ("JSON number instead of object", lambda rng: str(rng.randrange(10**6)).encode()),
    ("missing event_id", _without("event_id")),
    ("missing occurred_at", _without("occurred_at")),
    ("missing operation", _without("operation")),
    ("missing logical_address", _without("logical_address")),
    (
        "unknown operation",
        _with_choice("operation", ("BookAppointment", "makebooking", "GetAvailableDate", "")),
    ),
    ("bad timestamp: month 13", _with("occurred_at", "2024-13-01T00:00:00Z")),
    ("bad timestamp: no offset", _with("occurred_at", "2024-01-01T10:00:00")),
    ("bad timestamp: 30 February", _with("occurred_at", "2024-02-30T10:00:00Z")),
    ("bad timestamp: hour 24", _with("occurred_at", "2024-05-01T24:00:00+02:00")),
    ("bad timestamp: date only", _with("occurred_at", "2024-03-31")),
    ("bad timestamp: not a date", _with_choice("occurred_at", ("igår kl 10", "", "now"))),
    ("wrong type: occurred_at a number", _with("occurred_at", 1704103200)),
    ("wrong type: event_id a number", _with("event_id", 123)),
    ("wrong type: logical_address null", _with("logical_address", None)),
    ("wrong type: operation a list", _with("operation", ["MakeBooking"])),
    ("wrong type: status a boolean", _with("status", True)),
    ("unknown status", _with_choice("status", ("failed", "OK", "timeout"))),
    ("empty event_id", _with("event_id", "")),
    ("event_id of 129 chars", lambda rng: _dumps({**_valid_call(rng), "event_id": "e" * 129})),
    ("empty logical_address", _with("logical_address", "")),
    ("oversize (> 64 KiB)", _oversize),
    ("invalid UTF-8", _invalid_utf8),
)
MALFORMED_LABELS: tuple[str, ...] = tuple(label for label, _ in _MALFORMED)


def malformed_messages(n: int, seed: int) -> list[tuple[bytes, str]]:
    """`n` raw message values that break `ntjp.calls.v1`, each with what is wrong.

    Every kind appears (round robin) before the list is shuffled, so even a
    small `n` covers many kinds.
    """
    rng = random.Random(f"webbtidbokning-malformed-{seed}")
    out = [
        (_MALFORMED[i % len(_MALFORMED)][1](rng), _MALFORMED[i % len(_MALFORMED)][0])
        for i in range(n)
    ]
    rng.shuffle(out)
    return out
