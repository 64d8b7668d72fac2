"""Reading the input, shared by the three oracles: instants and Stockholm
days, duplicate events, and the contract's identifier and RFC 3339 rules for
the generators' bad input. Written from the contract like the oracles, never
imported from the code under test."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import orjson

STHLM = ZoneInfo("Europe/Stockholm")

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_ID = re.compile(r"^[^\s\x00-\x1f\x7f]+$")


def parse_instant(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(text)
    if t.tzinfo is None:
        raise ValueError(f"instant without offset: {text!r}")
    # UTC at once: two datetimes sharing a ZoneInfo subtract as wall clocks.
    return t.astimezone(dt.UTC)


def local_day(t: dt.datetime) -> dt.date:
    return t.astimezone(STHLM).date()


def local_midnight(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=STHLM).astimezone(dt.UTC)


def hours(earlier: dt.datetime, later: dt.datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def stamp(t: dt.datetime) -> str:
    local = t.astimezone(STHLM)
    return local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")


def dedupe(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first of each event_id: redelivered events count once."""
    seen: set[str] = set()
    out = []
    for e in events:
        if e["event_id"] not in seen:
            seen.add(e["event_id"])
            out.append(e)
    return out


T = TypeVar("T")


def by_content(
    read: Callable[[Sequence[dict[str, Any]]], T],
) -> Callable[[Sequence[dict[str, Any]]], T]:
    """Remember `read`'s result for the last few inputs, keyed by their content.

    The end-to-end tests ask an oracle for a hundred report cases over the same
    50 000 generated records, and reading them (instants, Stockholm days,
    duplicates, cases) each time was most of those tests' minutes. The key is a
    digest of the records' JSON, not their identity, so a list changed between
    calls is read again; the result must be immutable (tuples of frozen
    dataclasses), as every caller shares it. Records JSON cannot express are
    read every time."""
    memo: OrderedDict[bytes, T] = OrderedDict()

    @functools.wraps(read)
    def remembered(records: Sequence[dict[str, Any]]) -> T:
        try:
            key = hashlib.blake2b(orjson.dumps(records), digest_size=20).digest()
        except TypeError:  # orjson.JSONEncodeError: not JSON, so not remembered
            return read(records)
        if key in memo:
            memo.move_to_end(key)
            return memo[key]
        out = memo[key] = read(records)
        if len(memo) > 4:
            memo.popitem(last=False)
        return out

    return remembered


def id_problem(v: Any, longest: int) -> str | None:
    if not isinstance(v, str):
        return "not a string"
    if not 1 <= len(v) <= longest or not _ID.match(v):
        return "not an identifier"
    return None
