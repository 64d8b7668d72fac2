"""Which calls count on a day: the one rule, pure (issue 23).

A day is *reconciled* once a nightly calls file for it is registered as
applied. On a reconciled day the standing file's counts are the day's counts
and no stream row counts; on any other day every stream row counts once.
Nothing is stored as a delta: the rule is evaluated when a report reads
(the `calls_counted` view, migration 0012, is this function in SQL), so it
gives the same answer whatever stream rows a replay left in the raw table,
in whatever order files and calls arrived, and whichever process wrote them.

- late calls after a file: the day is reconciled, so they count 0;
- the same file again: its hash is known, nothing changes;
- another file for the same day: the last one applied stands (ties by hash);
- a backfill (from Kafka at any start, or from raw) replaces stream rows only;
  the files' counts and the registry live outside the swapped tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class AppliedFile:
    """A calls file registered as applied: its day, when, and its hash."""

    day: dt.date
    at: dt.datetime
    sha256: str


def standing(files: Iterable[AppliedFile]) -> dict[dt.date, str]:
    """Per reconciled day the hash of the file that stands: the last applied,
    ties broken by hash (as `argMax(sha256, (at, sha256))` does in SQL)."""
    best: dict[dt.date, tuple[dt.datetime, str]] = {}
    for f in files:
        key = (f.at, f.sha256)
        if f.day not in best or key > best[f.day]:
            best[f.day] = key
    return {day: sha for day, (_, sha) in best.items()}


def stream_row_counts(day: dt.date, reconciled: Iterable[dt.date] | set[dt.date]) -> bool:
    """Whether one stream row of `day` counts: only on a day no file closed."""
    return day not in reconciled


def counted(
    stream: Mapping[tuple[dt.date, K], int], files: Mapping[dt.date, Mapping[K, int]]
) -> dict[tuple[dt.date, K], int]:
    """The counts a report sums, per (day, key).

    `stream`: distinct stream events present per (day, key); `files`: the
    standing file's counts per reconciled day. Keys a file lacks are its "0".
    """
    out: dict[tuple[dt.date, K], int] = {}
    for (day, key), n in stream.items():
        if stream_row_counts(day, files.keys()) and n:
            out[(day, key)] = n
    for day, counts in files.items():
        for key, n in counts.items():
            if n:
                out[(day, key)] = n
    return out


@dataclass(frozen=True)
class DayListing:
    """One reconciled day as the reconciliation listing shows it."""

    day: dt.date
    stream: int  # every stream row present for the day
    file: int  # the standing file's total
    correction: int  # file - stream: what the file changes in the report
    rows_corrected: int  # keys where stream and file differ
    rows: tuple[tuple[str, str, int, int, int], ...] = ()  # address, op, stream, file, diff


def listing(
    day: dt.date, stream: Mapping[tuple[str, str], int], file: Mapping[tuple[str, str], int],
    with_rows: bool = False,
) -> DayListing:  # fmt: skip
    """Whole-day totals (and per key on request) of one reconciled day, pure."""
    keys = sorted(set(stream) | set(file))
    diff = {k: file.get(k, 0) - stream.get(k, 0) for k in keys}
    rows = tuple(
        (a, o, stream.get((a, o), 0), file.get((a, o), 0), diff[(a, o)])
        for a, o in keys
        if diff[(a, o)]
    )
    s, f = sum(stream.values()), sum(file.values())
    return DayListing(day, s, f, f - s, sum(1 for d in diff.values() if d),
                      rows if with_rows else ())  # fmt: skip
