"""The monthly SOB case file: fill in the transitions the stream missed.

For each Process case of the file, a start or completion the streamed
lifecycle lacks is filled in from the file when a report reads: the file's
cases are stored as they are (sob_file_cases) and the lifecycle view
(sob_moment_facts, migration 0013) takes each transition from the stream
where it has one, else from the files, so no replay of the stream can undo a
fill (issue 23). `plan` says how many transitions the file fills now. Where the stream has a start or completion at another instant,
or the file lacks a case the stream has in that month, nothing is changed and
the case is reported (`sob_reconciliation`). Filled rows carry no patient: the
file has no personal data, and resident counts stay those of the stream.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import faults
from reconcile.files import SobCase, SobCasesFile
from sinks.clickhouse import ClickHouseStore


@dataclass(frozen=True)
class Lifecycle:
    started_at: dt.datetime | None
    completed_at: dt.datetime | None


@dataclass(frozen=True)
class Fill:
    case: SobCase
    status: str  # Inprogress | Done
    at: dt.datetime


@dataclass(frozen=True)
class Disagreement:
    case_id: str
    issue: str
    stream: Lifecycle
    file: Lifecycle


def plan(
    cases: Mapping[str, SobCase],
    stream: Mapping[str, Lifecycle],
    month_start: dt.datetime,
    month_end: dt.datetime,
) -> tuple[list[Fill], list[Disagreement]]:
    """What to fill in and what to report, pure. `stream` holds the streamed
    lifecycles of the file's cases and of every Process case active in the month."""
    fills: list[Fill] = []
    issues: list[Disagreement] = []
    none = Lifecycle(None, None)
    for cid in sorted(cases):
        c = cases[cid]
        if c.case_type != "Process":
            continue
        s = stream.get(cid, none)
        f = Lifecycle(c.started_at, c.completed_at)
        for status, file_at, stream_at in (("Inprogress", f.started_at, s.started_at),
                                           ("Done", f.completed_at, s.completed_at)):  # fmt: skip
            if file_at is not None and stream_at is None:
                fills.append(Fill(c, status, file_at))
            elif stream_at is not None and stream_at < month_end and file_at != stream_at:
                what = "start" if status == "Inprogress" else "completion"
                issues.append(Disagreement(cid, f"{what} differs from the stream", s, f))
    for cid in sorted(set(stream) - set(cases)):
        s = stream[cid]
        started = s.started_at is not None and s.started_at < month_end
        open_or_in_month = s.completed_at is None or s.completed_at >= month_start
        if started and open_or_in_month:
            issues.append(Disagreement(cid, "in the stream but not in the file", s, none))
    return fills, issues


STREAM_LIFECYCLES = (
    "SELECT case_id, minIf(toNullable(occurred_at), status = 'Inprogress'), "
    "minIf(toNullable(occurred_at), status = 'Done') FROM sob_transactions "
    "WHERE case_type = 'Process' AND NOT startsWith(event_id, {own:String}) "
    "AND (case_id IN {ids:Array(String)} OR case_id IN ("
    "  SELECT case_id FROM sob_moment_facts WHERE started_at < {end:DateTime64(3, 'UTC')} "
    "  AND (completed_at IS NULL OR completed_at >= {start:DateTime64(3, 'UTC')}))) "
    "GROUP BY case_id"
)


def _utc(t: Any) -> dt.datetime | None:
    return None if t is None else (t if t.tzinfo else t.replace(tzinfo=dt.UTC))


def apply(store: ClickHouseStore, f: SobCasesFile, month_end: dt.datetime) -> int:
    """Fill and report one file; returns how many transitions were filled in.

    Computed against everything but this file's own rows, so a run killed after
    the fill computes the same blocks again and their tokens drop them."""
    own = f"file:{f.sha256[:16]}:"
    start = dt.datetime.combine(f.month, dt.time(), month_end.tzinfo).astimezone(dt.UTC)
    rows = store.query_rows(
        STREAM_LIFECYCLES,
        {"own": own, "ids": sorted(f.cases), "start": start, "end": month_end},
    )
    stream = {cid: Lifecycle(_utc(s), _utc(c)) for cid, s, c in rows}
    fills, issues = plan(f.cases, stream, start, month_end)
    _insert_cases(store, f)
    faults.point("reconcile.after-fill")
    _record(store, f, issues)
    return len(fills)


def _insert_cases(store: ClickHouseStore, f: SobCasesFile) -> None:
    """The file's cases as they are (sob_file_cases): the lifecycle view fills
    in from them when a report reads, whatever stream rows exist then. A
    killed run's block written again changes nothing: the view takes min()."""
    cases = [f.cases[cid] for cid in sorted(f.cases)]
    if not cases:
        return
    store.insert_columns(
        "sob_file_cases",
        {
            "sha256": [f.sha256] * len(cases),
            "month": [f.month] * len(cases),
            "case_id": [c.case_id for c in cases],
            "case_type": [c.case_type for c in cases],
            "process_name": [c.process_name for c in cases],
            "moment_name": [c.moment_name for c in cases],
            "care_provider_id": [c.care_provider_id for c in cases],
            "care_unit_id": [c.care_unit_id for c in cases],
            "started_at": [c.started_at for c in cases],
            "completed_at": [c.completed_at for c in cases],
            "closing_reason": [c.closing_reason for c in cases],
        },
    )


def _record(store: ClickHouseStore, f: SobCasesFile, issues: list[Disagreement]) -> None:
    if not issues:
        return
    store.insert_columns(
        "sob_reconciliation",
        {
            "file": [f.name] * len(issues),
            "sha256": [f.sha256] * len(issues),
            "month": [f.month] * len(issues),
            "case_id": [d.case_id for d in issues],
            "issue": [d.issue for d in issues],
            "stream_started_at": [d.stream.started_at for d in issues],
            "stream_completed_at": [d.stream.completed_at for d in issues],
            "file_started_at": [d.file.started_at for d in issues],
            "file_completed_at": [d.file.completed_at for d in issues],
        },
    )
