"""Reading the input, shared by the three oracles: instants and Stockholm
days, duplicate events, and the contract's identifier and RFC 3339 rules for
the generators' bad input. Written from the contract like the oracles, never
imported from the code under test."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

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


def id_problem(v: Any, longest: int) -> str | None:
    if not isinstance(v, str):
        return "not a string"
    if not 1 <= len(v) <= longest or not _ID.match(v):
        return "not an identifier"
    return None
