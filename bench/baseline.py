"""The baseline: the best bare loop for this ingest in Python, with no framework.

A bare aiokafka `getmany` loop (the worker's fetch settings) that decodes every
record with `orjson.loads` into columns, builds one Arrow table per `getmany`
(all partitions) and inserts it into chDB with one `insert_arrow`; the insert
runs in a thread while the next batch is fetched and decoded, so the two cores
work at once. The table is statflow's own DDL for `ntjp_calls` (same schema,
partitioning, order and indexes). With `--views` the loop also keeps
statflow's four views on it (daily and monthly rollups, minute rollup, seen ids), so the
storage work is the same as statflow's. Left out on purpose: validation,
deduplication (the seen-id lookup), the county lookup, DLQ, checkpoints and
commits — that is what statflow is measured against.

Run as `python -m bench.baseline ...` in its own process (chDB is one per process);
it prints one JSON object with its progress samples, CPU time and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

RAW_TABLE = "ntjp_calls"
# statflow's views on the raw table, by the table each fills
VIEW_TARGETS = ("ntjp_calls_daily", "ntjp_calls_monthly", "ntjp_calls_minute", "ntjp_calls_seen")


def raw_ddl(views: bool = False) -> list[str]:
    """statflow's CREATE statements for the raw calls (and, with `views`, the
    tables and materialized views statflow keeps on them)."""
    from sinks.migrate import load

    names = (RAW_TABLE, *VIEW_TARGETS) if views else (RAW_TABLE,)
    wanted = [rf"CREATE TABLE IF NOT EXISTS {n}\s*\(" for n in names]
    if views:
        wanted += [rf"CREATE MATERIALIZED VIEW IF NOT EXISTS {n}_mv TO {n}\b" for n in VIEW_TARGETS]
    out = [
        stmt
        for migration in load()
        for stmt in migration.statements
        if any(re.match(w, stmt) for w in wanted)
    ]
    if len(out) != len(wanted):
        raise LookupError(f"statflow's DDL for {names} not found in sinks/migrations")
    return out


_TS = pa.timestamp("ms", tz="UTC")


def arrow_batch(values: list[bytes], partitions: list[int], offsets: list[int]) -> pa.Table:
    """One Arrow table from the records' JSON, columns built in one pass."""
    rows = [orjson.loads(v) for v in values]
    n = len(rows)
    return pa.table(
        {
            "event_id": pa.array([r["event_id"] for r in rows], pa.string()),
            # RFC 3339 with an offset (Z or ±hh:mm, fractions or not), parsed in C
            "occurred_at": pc.cast(pa.array([r["occurred_at"] for r in rows], pa.string()), _TS),
            "operation": pa.array([r["operation"] for r in rows], pa.string()),
            "logical_address": pa.array([r["logical_address"] for r in rows], pa.string()),
            "consumer_id": pa.array([r.get("consumer_id") or "" for r in rows], pa.string()),
            "status": pa.array([r.get("status", "ok") for r in rows], pa.string()),
            "county_at_ingest": pa.nulls(n, pa.string()).fill_null(""),
            "source_partition": pa.array(partitions, pa.int32()),
            "source_offset": pa.array(offsets, pa.int64()),
        }
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import clickhouse_connect
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from bench.procinfo import self_peak_kb

    dsn = f"chdb://{args.chdb}"
    boot = clickhouse_connect.get_client(dsn=dsn)
    boot.command("CREATE DATABASE IF NOT EXISTS baseline")
    client = clickhouse_connect.get_client(dsn=dsn, database="baseline")
    for stmt in raw_ddl(args.views):
        client.command(stmt)

    consumer = AIOKafkaConsumer(
        bootstrap_servers=args.bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    samples: list[tuple[float, int]] = []
    total = 0
    t_start = time.monotonic()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    pool = ThreadPoolExecutor(1)
    pending: tuple[Future[Any], int] | None = None

    def landed() -> None:
        nonlocal total, pending
        if pending is not None:
            pending[0].result()
            total += pending[1]
            samples.append((time.monotonic(), total))
            pending = None

    try:
        tps = [TopicPartition(args.topic, p) for p in range(args.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        consumed = 0
        while consumed < args.expect:
            data = await consumer.getmany(timeout_ms=200, max_records=args.max_records)
            records = [r for rs in data.values() for r in rs]
            if records:
                table = arrow_batch(
                    [r.value for r in records],
                    [r.partition for r in records],
                    [r.offset for r in records],
                )
                consumed += len(records)
                # the previous insert ran while this batch was fetched and decoded
                await asyncio.wrap_future(pending[0]) if pending else None
                landed()
                pending = (pool.submit(client.insert_arrow, RAW_TABLE, table), len(records))
            if time.monotonic() - t_start > args.timeout:
                break
        if pending:
            await asyncio.wrap_future(pending[0])
        landed()
    finally:
        await consumer.stop()
        pool.shutdown()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    stored = int(client.query(f"SELECT count() FROM {RAW_TABLE}").result_rows[0][0])
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "samples": samples,
        "consumed": total,
        "batches": len(samples),
        "stored": stored,
        "cpu_seconds": cpu,
        "views": args.views,
        "peak_rss_mb": self_peak_kb() / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.baseline")
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--chdb", required=True, help="chDB directory")
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--max-records", type=int, default=20000)
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--views", action="store_true", help="keep statflow's views too")
    args = ap.parse_args(argv)
    out = asyncio.run(run(args))
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
