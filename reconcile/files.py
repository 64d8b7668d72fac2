"""Nightly file drops: recognising, validating and parsing them, pure.

A file is validated whole before anything of it is applied: one bad row
quarantines the file with a row-by-row report (row numbers count the header
as row 1, as a spreadsheet shows them).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TypeVar
from zoneinfo import ZoneInfo

from schemas.events import CALL_OPERATIONS

K = TypeVar("K", bound=Hashable)
_STHLM = ZoneInfo("Europe/Stockholm")
KINDS = {
    "ntjp/calls": re.compile(r"^calls-(\d{4}-\d{2}-\d{2})\.csv$"),
    "hsa/units": re.compile(r"^units-(\d{4}-\d{2}-\d{2})\.csv$"),
    "ntjp/routing": re.compile(r"^routing-(\d{4}-\d{2}-\d{2})\.csv$"),
    "scb/population": re.compile(r"^population-(\d{4})\.csv$"),
    "etj/cases": re.compile(r"^cases-(\d{4}-\d{2}-\d{2})\.csv$"),
    "sob/cases": re.compile(r"^cases-(\d{4})-(\d{2})\.csv$"),
}
# Reference files carry the topic's record fields as columns; the table each replaces.
REFERENCE = {
    "hsa/units": ("hsa.units.v1", "hsa_units",
                  ["hsa_id", "name", "kind", "care_provider_id", "county_code", "updated_at"]),
    "ntjp/routing": ("ntjp.routing.v1", "ntjp_routing",
                     ["logical_address", "operation", "active_from", "active_to"]),
    "scb/population": ("scb.population.v1", "scb_population", ["county_code", "year", "population"]),
}  # fmt: skip
_INTS = {"year", "population"}
CALLS_HEADER = ["date", "logical_address", "operation", "count"]
ETJ_CASES_HEADER = ["date", "unit_id", "case_type", "event", "count"]
ETJ_EVENTS = ("received", "assigned", "started", "answered", "closed")
_ID = re.compile(r"^[^\s\x00-\x1f\x7f]{1,64}$")


@dataclass(frozen=True)
class RowProblem:
    row: int
    reason: str


@dataclass
class CallsFile:
    name: str
    day: dt.date
    sha256: str
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (address, op) -> n
    problems: list[RowProblem] = field(default_factory=list)


def kind_of(relative: PurePath) -> str | None:
    """The drop kind of a path relative to the drop directory, or None to ignore.

    A `.part` name or anything unknown is not ours (a writer may still be busy).
    """
    if relative.suffix == ".part" or len(relative.parts) != 2:
        return None
    key = f"{relative.parts[0]}/{relative.name.split('-')[0]}"
    pattern = KINDS.get(key)
    return key if pattern and pattern.match(relative.name) else None


def read_rows(data: bytes, header: list[str], problems: list[RowProblem]) -> list[list[str]]:
    """The data rows of a CSV file with exactly `header`; [] after noting why
    the file cannot be read at all (row 0: the encoding, row 1: the header)."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except UnicodeDecodeError:
        problems.append(RowProblem(0, "the file is not UTF-8"))
        return []
    if not rows or [h.strip() for h in rows[0]] != header:
        problems.append(RowProblem(1, f"the header must be {','.join(header)}"))
        return []
    return rows[1:]


def check_rows(rows: list[list[str]], check: Callable[[list[str]], str | None],
               problems: list[RowProblem]) -> None:  # fmt: skip
    """Note each data row `check` finds a problem in (row numbers as a spreadsheet shows)."""
    for i, row in enumerate(rows, start=2):
        problem = check(row)
        if problem:
            problems.append(RowProblem(i, problem))


def parse_calls(name: str, data: bytes) -> CallsFile:
    """`ntjp/calls-YYYY-MM-DD.csv`: date,logical_address,operation,count for one day."""
    m = KINDS["ntjp/calls"].match(PurePath(name).name)
    if not m:
        raise ValueError(f"{name} is not named calls-YYYY-MM-DD.csv")
    out = CallsFile(name, dt.date.fromisoformat(m.group(1)), hashlib.sha256(data).hexdigest())
    rows = read_rows(data, CALLS_HEADER, out.problems)
    check_rows(rows, lambda row: _calls_row(out, row), out.problems)
    return out


def _calls_row(out: CallsFile, row: list[str]) -> str | None:
    if len(row) != 4:
        return f"expected 4 fields, got {len(row)}"
    day, address, operation, count = (v.strip() for v in row)
    if day != out.day.isoformat():
        return f"date {day[:20]!r} is not the file's day {out.day}"
    if not _ID.match(address):
        return "logical_address must be an HSA id without spaces"
    if operation not in CALL_OPERATIONS:
        return f"unknown operation {operation[:40]!r}"
    if not count.isdigit():
        return "count must be a whole number >= 0"
    if (address, operation) in out.counts:
        return f"a second row for {address} {operation}"
    out.counts[(address, operation)] = int(count)
    return None


@dataclass
class EtjCasesFile:
    name: str
    day: dt.date
    sha256: str
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (unit, type, event)
    problems: list[RowProblem] = field(default_factory=list)


def parse_etj_cases(name: str, data: bytes) -> EtjCasesFile:
    """`etj/cases-YYYY-MM-DD.csv`: date,unit_id,case_type,event,count for one day."""
    m = KINDS["etj/cases"].match(PurePath(name).name)
    if not m:
        raise ValueError(f"{name} is not named cases-YYYY-MM-DD.csv")
    out = EtjCasesFile(name, dt.date.fromisoformat(m.group(1)), hashlib.sha256(data).hexdigest())
    rows = read_rows(data, ETJ_CASES_HEADER, out.problems)
    check_rows(rows, lambda row: _etj_row(out, row), out.problems)
    return out


def _etj_row(out: EtjCasesFile, row: list[str]) -> str | None:
    if len(row) != 5:
        return f"expected 5 fields, got {len(row)}"
    day, unit, case_type, event, count = (v.strip() for v in row)
    if day != out.day.isoformat():
        return f"date {day[:20]!r} is not the file's day {out.day}"
    if not _ID.match(unit):
        return "unit_id must be an HSA id without spaces"
    if not re.match(r"^[^\s\x00-\x1f\x7f]{1,128}$", case_type):
        return "case_type must be an id without spaces"
    if event not in ETJ_EVENTS:
        return f"unknown event {event[:40]!r}; one of {', '.join(ETJ_EVENTS)}"
    if not count.isdigit():
        return "count must be a whole number >= 0"
    if (unit, case_type, event) in out.counts:
        return f"a second row for {unit} {case_type} {event}"
    out.counts[(unit, case_type, event)] = int(count)
    return None


SOB_CASES_HEADER = ["case_id", "case_type", "process_name", "moment_name", "care_provider_id",
                    "care_unit_id", "started_at", "completed_at", "closing_reason"]  # fmt: skip


@dataclass(frozen=True)
class SobCase:
    """One case as the platform knew it at month end."""

    case_id: str
    case_type: str
    process_name: str
    moment_name: str
    care_provider_id: str
    care_unit_id: str
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    closing_reason: str


@dataclass
class SobCasesFile:
    name: str
    month: dt.date  # its first day
    sha256: str
    cases: dict[str, SobCase] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)


def _instant(text: str, name: str, month_end: dt.datetime) -> dt.datetime | None:
    if text == "":
        return None
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} is not an RFC 3339 timestamp") from None
    if t.tzinfo is None:
        raise ValueError(f"{name} needs an offset or Z")
    if not dt.datetime(2000, 1, 1, tzinfo=dt.UTC) <= t < month_end:
        raise ValueError(f"{name} is after the file's month (or before 2000)")
    return t.astimezone(dt.UTC)


def end_of_month(month: dt.date) -> dt.datetime:
    """The instant a month ends: Stockholm midnight starting the next month (UTC)."""
    nxt = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return dt.datetime(nxt.year, nxt.month, 1, tzinfo=_STHLM).astimezone(dt.UTC)


def parse_sob_cases(name: str, data: bytes, month_end: dt.datetime | None = None) -> SobCasesFile:
    """`sob/cases-YYYY-MM.csv`: one row per case as of the month's end."""
    m = KINDS["sob/cases"].match(PurePath(name).name)
    if not m:
        raise ValueError(f"{name} is not named cases-YYYY-MM.csv")
    month = dt.date(int(m.group(1)), int(m.group(2)), 1)
    out = SobCasesFile(name, month, hashlib.sha256(data).hexdigest())
    end = month_end or end_of_month(month)

    def check(row: list[str]) -> str | None:
        try:
            case = _sob_row(row, end)
        except ValueError as exc:
            return str(exc)
        if case.case_id in out.cases:
            return f"a second row for case {case.case_id[:64]}"
        out.cases[case.case_id] = case
        return None

    check_rows(read_rows(data, SOB_CASES_HEADER, out.problems), check, out.problems)
    return out


def _sob_row(row: list[str], month_end: dt.datetime) -> SobCase:
    if len(row) != len(SOB_CASES_HEADER):
        raise ValueError(f"expected {len(SOB_CASES_HEADER)} fields, got {len(row)}")
    v = dict(zip(SOB_CASES_HEADER, (x.strip() for x in row), strict=True))
    for key in ("case_id", "case_type", "care_provider_id", "care_unit_id"):
        if not _ID.match(v[key]):
            raise ValueError(f"{key} must be an id without spaces (at most 64 characters)")
    for key in ("process_name", "moment_name"):
        if not 1 <= len(v[key]) <= 256:
            raise ValueError(f"{key} must be 1-256 characters")
    started = _instant(v["started_at"], "started_at", month_end)
    completed = _instant(v["completed_at"], "completed_at", month_end)
    if completed is not None and started is not None and completed < started:
        raise ValueError("completed_at is before started_at")
    return SobCase(v["case_id"], v["case_type"], v["process_name"], v["moment_name"],
                   v["care_provider_id"], v["care_unit_id"], started, completed,
                   v["closing_reason"])  # fmt: skip


def corrections(file_counts: Mapping[K, int], current: Mapping[K, int]) -> dict[K, int]:
    """What to add per (address, operation) so the day's totals equal the file's.

    Keys the file lacks are the platform saying "0": streamed extras are
    corrected away too.
    """
    out = {}
    for key in set(file_counts) | set(current):
        delta = file_counts.get(key, 0) - current.get(key, 0)
        if delta:
            out[key] = delta
    return out


@dataclass
class ReferenceFile:
    name: str
    kind: str
    sha256: str
    records: list[dict[str, object]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def parse_reference(kind: str, name: str, data: bytes, max_bytes: int = 65536) -> ReferenceFile:
    """A full reference table as CSV; every row must decode to the topic's contract."""
    from core.errors import ValidationError
    from schemas.topics import (
        BY_NAME,
        DECODERS,  # the contract is the one the stream uses
    )

    topic, _, header = REFERENCE[kind]
    out = ReferenceFile(name, kind, hashlib.sha256(data).hexdigest())
    rows = read_rows(data, header, out.problems)
    decode = DECODERS[topic](max_bytes)
    keys: set[tuple[object, ...]] = set()
    for i, row in enumerate(rows, start=2):
        if len(row) != len(header):
            out.problems.append(RowProblem(i, f"expected {len(header)} fields, got {len(row)}"))
            continue
        record: dict[str, object] = {}
        for k, v in zip(header, (v.strip() for v in row), strict=True):
            if v == "":
                continue  # an empty cell is an absent optional field
            record[k] = int(v) if k in _INTS and v.lstrip("-").isdigit() else v
        try:
            decoded = decode(orjson_dumps(record))
        except ValidationError as exc:
            out.problems.append(RowProblem(i, str(exc)))
            continue
        key = tuple(record.get(k) for k in BY_NAME[topic].key_fields)
        if key in keys:
            out.problems.append(RowProblem(i, f"a second row for {key}"))
            continue
        keys.add(key)
        out.records.append({f: getattr(decoded, f) for f in header})
    return out


def orjson_dumps(value: object) -> bytes:
    import orjson

    return orjson.dumps(value)
