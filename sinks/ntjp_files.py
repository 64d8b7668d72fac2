"""Calls files an older version applied: their counts adopted into
calls_file_counts (migration 0012) before anything replays the stream, run
by a backfill (streams/backfill.py); reconcile/apply.py applies new files."""

from __future__ import annotations

from sinks.clickhouse import ClickHouseStore

# reconciliation_files.report of a calls file whose counts are in
# calls_file_counts (migration 0012); '' marks one applied by an older version.
COUNTS = "counts"
LEGACY = (
    "SELECT sha256, any(name), any(day), max(at), max(rows), max(corrected) "
    "FROM reconciliation_files WHERE kind = 'ntjp/calls' AND status = 'applied' "
    "GROUP BY sha256 HAVING countIf(report = {c:String}) = 0"
)


def adopt_legacy(store: ClickHouseStore) -> int:
    """Give each calls file an older version applied (as correction rows) its
    counts: its day's sums, which then equalled the file exactly. Run before
    anything replays the stream (a replay would change those sums); a repeat
    after a crash adds identical rows, which readers take the max of."""
    adopted = 0
    for sha, name, day, at, rows, corrected in store.query_rows(LEGACY, {"c": COUNTS}):
        store.command(
            "INSERT INTO calls_file_counts (sha256, day, logical_address, operation, calls) "
            "SELECT {sha:String}, day, logical_address, toString(operation), "
            "toInt64(sum(calls)) FROM ntjp_calls_daily WHERE day = {d:Date} "
            "GROUP BY day, logical_address, operation HAVING sum(calls) != 0",
            {"sha": sha, "d": day},
        )
        store.insert_columns(
            "reconciliation_files",
            {"sha256": [sha], "name": [name], "kind": ["ntjp/calls"], "day": [day],
             "status": ["applied"], "rows": [rows], "corrected": [corrected],
             "report": [COUNTS], "at": [at]},
        )  # fmt: skip
        adopted += 1
    return adopted
