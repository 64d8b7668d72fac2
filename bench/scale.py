"""National scale without hours of loading: the year that went through the
whole pipeline is copied K-1 more times inside ClickHouse.

Loading 50 M calls through Kafka and statflow takes over an hour on this
machine (bench/README.md), all of it spent on what the ingest benchmark
already measures. For report latency and replay only the stored volume
matters, so each copy of the raw rows gets new event ids (and new case ids,
so SOB moments and e-services cases multiply too; new account ids for the
e-services logins, with a copy of each account) and goes into the raw
tables through their materialized views, exactly as ingested rows do:
rollups, seen stores and lifecycle tables grow with it; the rollups the sink
keeps itself are rebuilt afterwards. Times, units, counties and patients
stay those of the original rows, so distributions are the generator's;
distinct resident counts do not grow with K.

A running service's background merges bring every table a report reads down
to a few parts per partition within minutes of a load; copying takes those
minutes away, so the copy ends with the merges done (`OPTIMIZE ... FINAL` of
every table but the raw ones, which no report reads). Without it a report
would be timed over the dozens of small parts a bulk copy leaves (each costs
about half a millisecond), which a service never shows for long.
"""

from __future__ import annotations

import time
from typing import Any

from core.settings import Settings
from sinks.clickhouse import ClickHouseStore, check_identifier
from sinks.etj import CASES_TABLE, LOGINS_TABLE
from sinks.sob import SOB_TABLE

# Copies are marked so that a copy is never copied again.
MARK = "~x"

# The columns each copy changes; the rest are copied as they are.
_RENAMED: dict[str, tuple[str, ...]] = {
    "ntjp_calls": ("event_id", "batch_token"),
    "sob_transactions": ("event_id", "case_id", "batch_token"),
    "etj_cases": ("event_id", "case_id", "batch_token"),
    "etj_logins": ("event_id", "account_id", "batch_token"),
    # the compacted accounts topic's table: each copy's logins have their account
    "etj_accounts": ("account_id",),
}
# Which rows are originals: streamed raw rows, or (a reference table) any not
# yet marked.
_ORIGINAL = {"etj_accounts": f"position(account_id, '{MARK}') = 0"}
_STREAMED = f"source = 'stream' AND position(event_id, '{MARK}') = 0"


def copy_sql(table: str, columns: list[str]) -> str:
    """INSERT ... SELECT of a table's original rows with marked ids, pure.
    (chDB silently inserts nothing for `SELECT * REPLACE (...)`, so the
    columns are named.)"""
    renamed = _RENAMED[table]
    exprs = [
        f"concat({c}, '{MARK}', toString({{k:UInt32}}))" if c in renamed else c for c in columns
    ]
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(exprs)} FROM {table} "
        f"WHERE {_ORIGINAL.get(table, _STREAMED)}"
    )


def merged_tables(store: ClickHouseStore) -> list[str]:
    """The MergeTree-family tables of the store but the raw ones."""
    rows = store.query_rows(
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND engine LIKE '%MergeTree' AND name NOT IN {raw:Array(String)} ORDER BY name",
        {"raw": list(_RENAMED)},
    )
    return [check_identifier(str(r[0])) for r in rows]


def amplify(settings: Settings, factor: int, start: int = 1) -> dict[str, Any]:
    """Make every streamed raw row exist `factor` times (run while no worker
    holds the chDB path), given that copies 1..start-1 exist already (a run
    measured at a smaller scale first). Returns row counts and seconds."""
    store = ClickHouseStore(settings)
    try:
        t0 = time.monotonic()
        for table in _RENAMED:
            columns = [
                str(r[0])
                for r in store.query_rows(
                    "SELECT name FROM system.columns WHERE database = currentDatabase() "
                    "AND table = {t:String} AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') "
                    "ORDER BY position",
                    {"t": table},
                )
            ]
            for k in range(max(start, 1), factor):
                store.command(copy_sql(table, columns), {"k": k}, {"insert_deduplicate": 0})
        # the rollups the sink keeps (views fill the rest as the rows go in)
        for spec in (SOB_TABLE, CASES_TABLE, LOGINS_TABLE):
            if spec.derived is not None:
                spec.derived.rebuild(store)
        for table in merged_tables(store):
            store.command(f"OPTIMIZE TABLE {table} FINAL")
        seconds = time.monotonic() - t0
        counts = {t: int(store.query_rows(f"SELECT count() FROM {t}")[0][0]) for t in _RENAMED}
    finally:
        store.close()
    return {"factor": factor, "copied_from": max(start, 1), "seconds": seconds, "rows": counts}
