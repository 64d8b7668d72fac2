"""Time and choice helpers every synthetic stream shares: Stockholm time,
instants that stress local-time bucketing (month ends, DST changes), RFC 3339
text with mixed offsets, UUIDs and weighted choice drawn from the seeded
generator, so every stream stays deterministic in its seed."""

from __future__ import annotations

import bisect
import datetime as dt
import random
import uuid
from collections.abc import Sequence
from zoneinfo import ZoneInfo

STHLM = ZoneInfo("Europe/Stockholm")


def local_midnight(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=STHLM).astimezone(dt.UTC)


def _last_sunday(year: int, month: int) -> dt.date:
    d = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    return d - dt.timedelta(days=(d.isoweekday() % 7))


def special_instants(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Instants on which a wrong time zone or a naive month end gives a different bucket."""
    out: set[dt.datetime] = set()
    d = dt.date(start.year, start.month, 1)
    last = end.date()
    while d <= last:
        nxt = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
        month_end = nxt - dt.timedelta(days=1)
        midnight = local_midnight(nxt)
        out.add(midnight)  # first instant of the next Stockholm month
        out.add(midnight - dt.timedelta(milliseconds=1))  # last of this one
        # 23:30Z on the last day is already the next day (and month) in Stockholm.
        out.add(dt.datetime(month_end.year, month_end.month, month_end.day, 23, 30, tzinfo=dt.UTC))
        mid = local_midnight(d + dt.timedelta(days=14))
        out.add(mid)
        d = nxt
    for year in range(start.year, end.year + 1):
        spring, autumn = _last_sunday(year, 3), _last_sunday(year, 10)
        for day in (spring, autumn):
            base = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            # 00:30Z and 01:30Z on the autumn day are both 02:30 local.
            for minutes in (-61, -60, -1, 0, 30, 59, 60, 90):
                out.add(base + dt.timedelta(minutes=60 + minutes))
            out.add(local_midnight(day))
            out.add(local_midnight(day + dt.timedelta(days=1)))
    return sorted(t for t in out if start <= t < end)


_OFFSETS = (
    dt.UTC,
    dt.timezone(dt.timedelta(hours=1)),
    dt.timezone(dt.timedelta(hours=2)),
    dt.timezone(dt.timedelta(hours=-5)),
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
)


def rfc3339(t: dt.datetime, rng: random.Random) -> str:
    """The same instant written with a mix of offsets, as platform teams do."""
    tz = STHLM if rng.random() < 0.5 else rng.choice(_OFFSETS)
    local = t.astimezone(tz)
    spec = "milliseconds" if local.microsecond else "seconds"
    text = local.isoformat(timespec=spec)
    if text.endswith("+00:00") and rng.random() < 0.7:
        text = text[:-6] + "Z"
    return text


def ms(t: dt.datetime) -> dt.datetime:
    # Instants are written with at most milliseconds; keeping them whole
    # milliseconds makes the text and the generated instant the same.
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def dst_changes(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    out = []
    for year in range(start.year, end.year + 1):
        for month in (3, 10):
            d = dt.date(year, month, 31)
            d -= dt.timedelta(days=d.isoweekday() % 7)
            t = dt.datetime(d.year, d.month, d.day, 1, tzinfo=dt.UTC)  # 01:00Z both times
            if start <= t < end:
                out.append(t)
    return out


class Picker:
    """Weighted choice by bisection over cumulative weights."""

    def __init__(self, items: Sequence[str], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cumulative: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            self.cumulative.append(total)

    def __call__(self, rng: random.Random) -> str:
        i = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.items[min(i, len(self.items) - 1)]


def check_window(start: dt.datetime, end: dt.datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if not start < end:
        raise ValueError("start must be before end")
