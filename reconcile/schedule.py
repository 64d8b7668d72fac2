"""When the worker applies nightly files: pure."""

from __future__ import annotations

import datetime as dt

from core.errors import ConfigError


def parse_times(spec: str) -> tuple[dt.time, ...]:
    """'02:30,14:00' -> the times of day (Stockholm) files are applied at."""
    out = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        try:
            out.append(dt.time.fromisoformat(part))
        except ValueError:
            raise ConfigError(
                f"STATFLOW_RECONCILE_AT: {part[:20]!r} is not a time HH:MM; e.g. 02:30,14:00"
            ) from None
    return tuple(sorted(set(out)))


def due(now: dt.datetime, last: dt.datetime | None, times: tuple[dt.time, ...]) -> bool:
    """Whether a scheduled time has passed since `last` (both local, aware).

    No times: always (files are applied as they arrive). Never run: due once a
    time of today has passed, so a worker started after the slot catches up.
    """
    if not times:
        return True
    slots = [
        dt.datetime.combine(day, t, now.tzinfo)
        for day in (now.date() - dt.timedelta(days=1), now.date())
        for t in times
    ]
    passed = [s for s in slots if s <= now]
    if last is None:
        return any(s.date() == now.date() for s in passed)
    return any(s > last for s in passed)
