"""Apply nightly files to ClickHouse: whole or not at all, once per content.

For a calls file the day's counts per (unit, operation) are brought to the
file's by correction rows in ntjp_calls (source 'file:<name>'); the daily
rollup view picks them up like any other row. The correction block carries a
deduplication token from the file's hash, so a process killed half-way and
restarted applies it exactly once.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from agents.batch import RawMessage
from agents.reference import DimensionBatch, population, routing, units
from reconcile import etj, sob
from reconcile.files import (
    REFERENCE,
    CallsFile,
    EtjCasesFile,
    ReferenceFile,
    SobCasesFile,
    corrections,
    end_of_month,
    kind_of,
    parse_calls,
    parse_etj_cases,
    parse_reference,
    parse_sob_cases,
)
from schemas.contracts import DECODERS
from sinks.calls import DAY_LOCK
from sinks.clickhouse import ClickHouseStore
from sinks.events import DEDUP
from statflow import faults
from streams import metrics

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ROWS: dict[str, Callable[..., DimensionBatch]] = {
    "hsa/units": units,
    "ntjp/routing": routing,
    "scb/population": population,
}


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str  # applied | unchanged | quarantined
    corrected: int = 0
    kind: str = "ntjp/calls"


def pending(drop: Path) -> Iterator[tuple[Path, str]]:
    """Files of a known kind, oldest first; a file still growing is left for later."""
    for path in sorted(drop.rglob("*.csv"), key=lambda p: p.stat().st_mtime):
        kind = kind_of(path.relative_to(drop))
        if kind and not _growing(path):
            yield path, kind


def _growing(path: Path, quiet: float = 2.0) -> bool:
    return dt.datetime.now().timestamp() - path.stat().st_mtime < quiet


def apply_file(store: ClickHouseStore, drop: Path, path: Path) -> Outcome:
    name = str(path.relative_to(drop))
    kind = str(kind_of(path.relative_to(drop)))
    data = path.read_bytes()
    if kind in REFERENCE:
        ref = parse_reference(kind, name, data)
        return _once(store, drop, path, kind, ref, lambda: _apply_reference(store, ref), None)
    if kind == "etj/cases":
        etj_file = parse_etj_cases(name, data)
        return _once(store, drop, path, kind, etj_file, lambda: _apply_etj(store, etj_file),
                     "statflow_rows_differing_total")  # fmt: skip
    if kind == "sob/cases":
        sob_file = parse_sob_cases(name, data)
        return _once(store, drop, path, kind, sob_file, lambda: _apply_sob(store, sob_file))
    calls = parse_calls(name, data)
    return _once(store, drop, path, kind, calls, lambda: _apply_calls(store, calls))


AnyFile = CallsFile | ReferenceFile | EtjCasesFile | SobCasesFile


def _once(store: ClickHouseStore, drop: Path, path: Path, kind: str, parsed: AnyFile,
          apply: Callable[[], int],
          counter: str | None = "statflow_rows_corrected_total") -> Outcome:  # fmt: skip
    """Apply a parsed file whole, once per content: a known hash changes nothing,
    a file with any bad row is quarantined, else `apply` (which registers the
    file) runs and says how many rows it corrected, filled or found differing."""
    if _known(store, parsed.sha256):
        return Outcome(parsed.name, "unchanged", kind=kind)
    if parsed.problems:
        _quarantine(store, drop, path, parsed, kind)
        metrics.inc("statflow_files_quarantined_total", kind=kind)
        return Outcome(parsed.name, "quarantined", kind=kind)
    n = apply()
    metrics.inc("statflow_files_applied_total", kind=kind)
    if counter:
        metrics.inc(counter, n, kind=kind)
    return Outcome(parsed.name, "applied", n, kind)


def _known(store: ClickHouseStore, sha: str) -> bool:
    rows = store.query_rows(
        "SELECT count() FROM reconciliation_files WHERE sha256 = {s:String}", {"s": sha}
    )
    return bool(rows[0][0])


def _apply_calls(store: ClickHouseStore, f: CallsFile) -> int:
    with DAY_LOCK:  # no stream batch may land between reading the day and closing it
        return _apply_calls_locked(store, f)


def _apply_calls_locked(store: ClickHouseStore, f: CallsFile) -> int:
    # Everything the day has except this file's own correction rows: so a run
    # killed after writing them computes the same block again, which its
    # token then drops, and the discrepancy record is still complete.
    lo = dt.datetime.combine(f.day - dt.timedelta(days=1), dt.time(), dt.UTC)
    current = {
        (a, o): int(n)
        for a, o, n in store.query_rows(
            "SELECT logical_address, toString(operation), sum(calls) FROM ntjp_calls "
            "WHERE occurred_at >= {lo:DateTime64(3, 'UTC')} "
            "AND occurred_at < {hi:DateTime64(3, 'UTC')} "
            "AND toDate(occurred_at, 'Europe/Stockholm') = {d:Date} "
            "AND NOT startsWith(event_id, {own:String}) "
            "GROUP BY logical_address, operation",
            {
                "d": f.day,
                "lo": lo,
                "hi": lo + dt.timedelta(days=3),
                "own": f"file:{f.sha256[:16]}:",
            },
        )  # fmt: skip
    }
    fix = corrections(f.counts, current)
    # Noon in Stockholm lands in the file's day whatever the DST offset.
    at = dt.datetime.combine(f.day, dt.time(12), STOCKHOLM).astimezone(dt.UTC)
    keys = sorted(fix)
    if keys:
        store.insert_columns(
            "ntjp_calls",
            {
                "event_id": [f"file:{f.sha256[:16]}:{a}:{o}" for a, o in keys],
                "occurred_at": [at] * len(keys),
                "operation": [o for _, o in keys],
                "logical_address": [a for a, _ in keys],
                "consumer_id": [""] * len(keys),
                "status": ["ok"] * len(keys),
                "county_at_ingest": [""] * len(keys),
                "source": [f"file:{f.name}"] * len(keys),
                "calls": [fix[k] for k in keys],
                "source_partition": [-1] * len(keys),
                "source_offset": [-1] * len(keys),
            },
            {**DEDUP, "insert_deduplication_token": f"reconcile|{f.sha256}"},
        )
    faults.point("reconcile.after-corrections")
    store.insert_columns(
        "reconciliation_corrections",
        {
            "file": [f.name] * len(keys),
            "sha256": [f.sha256] * len(keys),
            "day": [f.day] * len(keys),
            "logical_address": [a for a, _ in keys],
            "operation": [o for _, o in keys],
            "stream_count": [current.get(k, 0) for k in keys],
            "file_count": [f.counts.get(k, 0) for k in keys],
            "correction": [fix[k] for k in keys],
        },
    )
    _register(store, f, "applied", len(keys), "")
    return len(keys)


def _apply_etj(store: ClickHouseStore, f: EtjCasesFile) -> int:
    differing = etj.compare(store, f)
    _register(store, f, "applied", differing, "", "etj/cases")
    return differing


def _apply_sob(store: ClickHouseStore, f: SobCasesFile) -> int:
    filled = sob.apply(store, f, end_of_month(f.month))
    _register(store, f, "applied", filled, "", "sob/cases")
    return filled


def _register(store: ClickHouseStore, f: AnyFile, status: str, corrected: int,
              report: str, kind: str = "ntjp/calls") -> None:  # fmt: skip
    if isinstance(f, ReferenceFile):
        day, rows = dt.date(1970, 1, 1), len(f.records)
    elif isinstance(f, SobCasesFile):
        day, rows = f.month, len(f.cases)
    else:
        day, rows = f.day, len(f.counts)
    store.insert_columns(
        "reconciliation_files",
        {
            "sha256": [f.sha256], "name": [f.name], "kind": [kind], "day": [day],
            "status": [status], "rows": [rows], "corrected": [corrected], "report": [report],
        },
    )  # fmt: skip


def _quarantine(store: ClickHouseStore, drop: Path, path: Path, f: AnyFile,
                kind: str = "ntjp/calls") -> None:  # fmt: skip
    report = orjson.dumps(
        {"file": f.name, "sha256": f.sha256,
         "problems": [{"row": p.row, "reason": p.reason} for p in f.problems]},
        option=orjson.OPT_INDENT_2,
    )  # fmt: skip
    target = drop / "quarantine" / path.relative_to(drop)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), target)
    target.with_name(target.name + ".report.json").write_bytes(report)
    _register(store, f, "quarantined", 0, report.decode(), kind)


def _apply_reference(store: ClickHouseStore, parsed: ReferenceFile) -> int:
    """Replace a dimension table whole: readers see the old table or the new one,
    never a mix (EXCHANGE TABLES is atomic)."""
    kind = parsed.kind
    topic, table, _ = REFERENCE[kind]
    msgs = [RawMessage(topic, 0, 0, None, orjson.dumps(r, default=str)) for r in parsed.records]
    batch = ROWS[kind](msgs, DECODERS[topic](1 << 20))
    swap = f"{table}_swap"
    on = store.on_cluster  # runtime DDL reaches every replica too
    store.command(f"DROP TABLE IF EXISTS {swap}{on}")  # a leftover of a crash half-way
    store.command(f"CREATE TABLE {swap}{on} AS {table}")
    if batch.columns:
        store.insert_columns(swap, batch.columns)
    store.command(f"EXCHANGE TABLES {table} AND {swap}{on}")
    store.command(f"DROP TABLE IF EXISTS {swap}{on}")
    _register(store, parsed, "applied", len(parsed.records), "", kind)
    return len(parsed.records)


def apply_dir(store: ClickHouseStore, drop: Path) -> list[Outcome]:
    return [
        apply_file(store, drop, path)
        for path, _ in pending(drop)
        if "quarantine" not in path.relative_to(drop).parts
    ]


def discrepancies(store: ClickHouseStore, limit: int = 1000) -> list[dict[str, object]]:
    rows = store.query_rows(
        "SELECT day, file, sum(stream_count), sum(file_count), sum(correction), count() "
        "FROM reconciliation_corrections FINAL GROUP BY day, file ORDER BY day DESC, file "
        "LIMIT {n:UInt32}",
        {"n": limit},
    )
    keys = ("day", "file", "stream", "file_says", "correction", "rows_corrected")
    out = [dict(zip(keys, r, strict=True)) for r in rows]
    # e-tjanster files are compared, not corrected: "correction" is 0 there.
    etj_rows = store.query_rows(
        "SELECT day, file, sum(stream_count), sum(file_count), 0, count() "
        "FROM etj_reconciliation FINAL GROUP BY day, file ORDER BY day DESC, file "
        "LIMIT {n:UInt32}",
        {"n": limit},
    )
    out += [dict(zip(keys, r, strict=True)) | {"service": "e-tjanster"} for r in etj_rows]
    # SOB monthly files: per month, cases in the file, transitions filled in,
    # and cases reported as disagreeing with the streamed lifecycle.
    sob_rows = store.query_rows(
        "SELECT f.day, f.name, f.rows, f.corrected, ifNull(r.n, 0) FROM "
        "(SELECT day, name, max(rows) AS rows, max(corrected) AS corrected "
        " FROM reconciliation_files WHERE kind = 'sob/cases' AND status = 'applied' "
        " GROUP BY day, name) AS f "
        "LEFT JOIN (SELECT file, toNullable(count()) AS n FROM sob_reconciliation FINAL "
        " GROUP BY file) AS r ON f.name = r.file "
        "ORDER BY f.day DESC, f.name LIMIT {n:UInt32}",
        {"n": limit},
    )
    out += [
        {"day": m, "file": name, "service": "stod-och-behandling", "file_cases": int(rows),
         "transitions_filled": int(filled), "cases_reported": int(n)}
        for m, name, rows, filled, n in sob_rows
    ]  # fmt: skip
    return out
