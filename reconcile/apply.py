"""Apply nightly files to ClickHouse: whole or not at all, once per content.

A calls file's counts per (unit, operation) are stored as they are
(calls_file_counts) and stand in for the stream on its day when a report
reads (sinks/ntjp_rule.py, view calls_counted): no delta is stored, so no
replay of the stream can undo a file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from core import faults, metrics
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
from schemas.pipeline import RawMessage
from schemas.topics import BY_NAME, DECODERS
from sinks import sob_rollups
from sinks.clickhouse import ClickHouseStore, check_identifier
from sinks.dimensions import DimensionBatch, population, routing, units
from sinks.leases import Leases, holder_id
from sinks.ntjp_files import COUNTS, adopt_legacy
from sinks.ntjp_rule import DayListing, listing

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
    """Store the file's counts, then register it: the registration is what makes
    the day reconciled (sinks/ntjp_rule.py), so a run killed in between leaves
    the day as it was, and the next run writes the same rows again (readers
    take the max per key of one file, so a repeat changes nothing). No lock:
    nothing here depends on which stream rows exist or arrive meanwhile."""
    stream = stream_counts(store, [f.day]).get(f.day, {})
    keys = sorted(f.counts)
    if keys:
        store.insert_columns(
            "calls_file_counts",
            {
                "sha256": [f.sha256] * len(keys),
                "day": [f.day] * len(keys),
                "logical_address": [a for a, _ in keys],
                "operation": [o for _, o in keys],
                "calls": [f.counts[k] for k in keys],
            },
        )
    faults.point("reconcile.after-corrections")
    differing = len(corrections(f.counts, stream))
    _register(store, f, "applied", differing, COUNTS)
    return differing


# Every stream row present for the days, per (address, operation): count(),
# not sum(calls), so rows an older version stored as 0 count as streamed too.
STREAM_COUNTS = (
    "SELECT toDate(occurred_at, 'Europe/Stockholm') AS d, logical_address, "
    "toString(operation), count() FROM ntjp_calls "
    "WHERE source = 'stream' AND occurred_at >= {lo:DateTime64(3, 'UTC')} "
    "AND occurred_at < {hi:DateTime64(3, 'UTC')} AND d IN {days:Array(Date)} "
    "GROUP BY d, logical_address, operation"
)


def stream_counts(
    store: ClickHouseStore, days: list[dt.date]
) -> dict[dt.date, dict[tuple[str, str], int]]:
    """What the stream holds now for each of `days`, per (address, operation)."""
    out: dict[dt.date, dict[tuple[str, str], int]] = {d: {} for d in days}
    if not days:
        return out
    lo = dt.datetime.combine(min(days) - dt.timedelta(days=1), dt.time(), dt.UTC)
    hi = dt.datetime.combine(max(days) + dt.timedelta(days=2), dt.time(), dt.UTC)
    for d, a, o, n in store.query_rows(STREAM_COUNTS, {"lo": lo, "hi": hi, "days": days}):
        out.setdefault(d, {})[(a, o)] = int(n)
    return out


def _apply_etj(store: ClickHouseStore, f: EtjCasesFile) -> int:
    differing = etj.compare(store, f)
    _register(store, f, "applied", differing, "", "etj/cases")
    return differing


def _apply_sob(store: ClickHouseStore, f: SobCasesFile) -> int:
    # The day rollup reads applied files: its days the file's cases touch are
    # recomputed once the file is registered (a kill in between leaves the
    # mark, and the next worker start rebuilds the rollup).
    marked = sob_rollups.mark_stale(store, f.sha256)
    filled = sob.apply(store, f, end_of_month(f.month))
    _register(store, f, "applied", filled, "", "sob/cases")
    sob_rollups.refresh(store, f.cases)
    sob_rollups.clear(store, f.sha256, marked)
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
        fields = BY_NAME[topic].key_fields
        keys = [key_text(tuple(batch.columns[f][i] for f in fields))
                for i in range(len(batch.columns[fields[0]]))]  # fmt: skip
        filed = {str(k): int(v) for k, v in store.query_rows(
            "SELECT key, version FROM reference_file_versions FINAL "
            "WHERE table_name = {t:String}", {"t": table})}  # fmt: skip
        batch.columns["version"] = file_versions(keys, _versions_now(store, table, fields), filed)
        store.insert_columns(swap, batch.columns)
        store.insert_columns(
            "reference_file_versions",
            {"table_name": [table] * len(keys), "key": keys, "version": batch.columns["version"]},
        )
    store.command(f"EXCHANGE TABLES {table} AND {swap}{on}")
    store.command(f"DROP TABLE IF EXISTS {swap}{on}")
    _register(store, parsed, "applied", len(parsed.records), "", kind)
    return len(parsed.records)


def key_text(key: tuple[Any, ...]) -> str:
    """A dimension key as one string (its fields joined by '/', as the topic's message key)."""
    return "/".join(str(v) for v in key)


def file_versions(keys: list[str], now: Mapping[str, int], filed: Mapping[str, int]) -> list[int]:
    """The version of each row of a reference file, pure. `now`: the newest
    version per key in the table; `filed`: the version the last file gave it.

    A stream row's version is its Kafka offset. A key whose newest row is a
    stream record gets one above it: a record read again from before the file
    (Faust re-delivering what it had not committed, a consumer group starting
    over) has an offset at most that and cannot undo the file, while the key's
    next record, written after, wins. A key whose newest row a file wrote keeps
    that version (no record came since), so files never climb past offsets to
    come. A key neither the stream nor a file ever had gets 0."""
    out = []
    for k in keys:
        v = now.get(k, filed.get(k))  # a key a file dropped keeps its last file version
        out.append(0 if v is None else v if filed.get(k) == v else v + 1)
    return out


def _versions_now(store: ClickHouseStore, table: str, fields: tuple[str, ...]) -> dict[str, int]:
    cols = ", ".join(check_identifier(f) for f in fields)  # the topic's key fields, not input
    rows = store.query_rows(f"SELECT {cols}, max(version) FROM {check_identifier(table)} "
                            f"GROUP BY {cols}")  # fmt: skip
    return {key_text(tuple(r[:-1])): int(r[-1]) for r in rows}


RECONCILE_LEASE = "reconcile"
RECONCILE_TTL = 20.0  # seconds; renewed every 5 s while files are applied (a killed applier frees it after this)


def apply_dir(store: ClickHouseStore, drop: Path, wait: float = 600.0) -> list[Outcome]:
    """Apply the drop's new files under the `reconcile` lease in ClickHouse:
    one applier at a time, whichever process (the API, `statflow reconcile`, a
    worker's drop watcher), so the check "this content is known" and the
    registration after it are never interleaved with another applier's, and
    each file is applied once. Waits up to `wait` seconds for another applier
    (sinks.leases.LeaseBusy after that)."""
    with Leases(store).held(RECONCILE_LEASE, holder_id("reconcile"), RECONCILE_TTL, wait):
        adopt_legacy(store)
        return [
            apply_file(store, drop, path)
            for path, _ in pending(drop)
            if "quarantine" not in path.relative_to(drop).parts
        ]


STANDING = (
    "SELECT day, argMax(name, (at, sha256)), argMax(sha256, (at, sha256)) "
    "FROM reconciliation_files WHERE kind = 'ntjp/calls' AND status = 'applied' "
    "AND report = 'counts' GROUP BY day ORDER BY day DESC LIMIT {n:UInt32}"
)
FILE_COUNTS = (
    "SELECT day, sha256, logical_address, toString(operation), max(calls) "
    "FROM calls_file_counts WHERE day IN {days:Array(Date)} AND sha256 IN {shas:Array(String)} "
    "GROUP BY day, sha256, logical_address, operation"
)


def calls_days(
    store: ClickHouseStore, limit: int = 1000, with_rows: bool = False
) -> list[tuple[str, DayListing]]:
    """Each reconciled day (newest first) with its standing file: the whole
    day's stream rows, the file's total and the correction between them."""
    standing = [(d, str(name), str(sha)) for d, name, sha in
                store.query_rows(STANDING, {"n": limit})]  # fmt: skip
    if not standing:
        return []
    days = [d for d, _, _ in standing]
    files: dict[dt.date, dict[tuple[str, str], int]] = {d: {} for d in days}
    stands = {(d, sha) for d, _, sha in standing}
    for d, sha, a, o, n in store.query_rows(
        FILE_COUNTS, {"days": days, "shas": sorted({sha for _, _, sha in standing})}
    ):
        if (d, sha) in stands:
            files[d][(a, o)] = int(n)
    stream = stream_counts(store, days)
    return [(name, listing(d, stream[d], files[d], with_rows)) for d, name, _ in standing]


def _etj_days(store: ClickHouseStore, limit: int, with_rows: bool) -> list[dict[str, object]]:
    """e-tjanster files are compared, not corrected ("correction" is 0): each day
    a file differed on, with the whole day's stream now and the file's total
    (a file an older version applied has no stored counts: its differing rows)."""
    days = store.query_rows(
        "SELECT day, file, any(sha256), sum(stream_count), sum(file_count), count() "
        "FROM etj_reconciliation FINAL GROUP BY day, file ORDER BY day DESC, file "
        "LIMIT {n:UInt32}",
        {"n": limit},
    )
    out: list[dict[str, object]] = []
    for day, name, sha, old_stream, old_file, old_rows in days:
        file = {(u, t, e): int(n) for u, t, e, n in store.query_rows(
            "SELECT unit_id, case_type, toString(event), max(count) FROM etj_file_counts "
            "WHERE sha256 = {s:String} GROUP BY unit_id, case_type, event", {"s": sha})}  # fmt: skip
        stream = etj.stream_counts(store, day)
        diff = corrections(file, stream) if file else {}
        row: dict[str, object] = {
            "day": day, "file": name, "service": "e-tjanster", "correction": 0,
            "stream": sum(stream.values()) if file else int(old_stream),
            "file_says": sum(file.values()) if file else int(old_file),
            "rows_corrected": len(diff) if file else int(old_rows),
        }  # fmt: skip
        if with_rows:
            row["rows"] = [
                {"unit_id": u, "case_type": t, "event": e, "stream": stream.get((u, t, e), 0),
                 "file_says": file.get((u, t, e), 0), "correction": 0}
                for (u, t, e) in sorted(diff)
            ]  # fmt: skip
        out.append(row)
    return out


def discrepancies(
    store: ClickHouseStore, limit: int = 1000, with_rows: bool = False
) -> list[dict[str, object]]:
    keys = ("day", "file", "stream", "file_says", "correction", "rows_corrected")
    out: list[dict[str, object]] = []
    for name, day in calls_days(store, limit, with_rows):
        row: dict[str, object] = dict(zip(keys, (day.day, name, day.stream, day.file,
                                                 day.correction, day.rows_corrected),
                                          strict=True))  # fmt: skip
        if with_rows:
            row["rows"] = [
                {"unit_id": a, "operation": o, "stream": s, "file_says": f, "correction": c}
                for a, o, s, f, c in day.rows
            ]
        out.append(row)
    out += _etj_days(store, limit, with_rows)
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
