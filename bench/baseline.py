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

`--exactly-once` (with the views) adds the least work a loop needs to keep
statflow's promise on one worker, still without the framework: msgspec
validates each getmany as one `list[NtjpCall]` (the contract's struct,
patterns included), the seen-id store is asked which ids it holds (a probe
table and one `IN`), the new rows go in under a deduplication token, and the
partitions' next offsets are inserted into `ingest_checkpoints` after them.
What it still leaves out is statflow's own: the instants' range, rejects and
the DLQ, the county lookup, fencing and pauses for several workers, Kafka
commits and metrics. It shows what bounds any loop with these guarantees on
this engine, so that statflow's remaining distance is read against it.

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

import msgspec
import orjson
import pyarrow as pa
import pyarrow.compute as pc

RAW_TABLE = "ntjp_calls"
CHECKPOINTS = "ingest_checkpoints"
# statflow's views on the raw table, by the table each fills
VIEW_TARGETS = ("ntjp_calls_daily", "ntjp_calls_monthly", "ntjp_calls_minute", "ntjp_calls_seen")


def raw_ddl(views: bool = False, once: bool = False) -> list[str]:
    """statflow's CREATE statements for the raw calls (and, with `views`, the
    tables and materialized views statflow keeps on them; with `once`, its
    checkpoint table and the raw table's batch_token column)."""
    from sinks.migrate import load

    names: tuple[str, ...] = (RAW_TABLE, *VIEW_TARGETS) if views else (RAW_TABLE,)
    names += (CHECKPOINTS,) if once else ()
    wanted = [rf"CREATE TABLE IF NOT EXISTS {n}\s*\(" for n in names]
    if views:
        wanted += [rf"CREATE MATERIALIZED VIEW IF NOT EXISTS {n}_mv TO {n}\b" for n in VIEW_TARGETS]
    if once:
        wanted.append(rf"ALTER TABLE {RAW_TABLE} ADD COLUMN IF NOT EXISTS batch_token\b")
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


def validated_batch(values: list[bytes], partitions: list[int], offsets: list[int]) -> pa.Table:
    """One Arrow table from the records, each validated by the contract's
    struct: the getmany decoded by msgspec as one JSON array."""
    from schemas.events import NtjpCall

    calls = msgspec.json.decode(b"[" + b",".join(values) + b"]", type=list[NtjpCall])
    return pa.table(
        {
            "event_id": pa.array([c.event_id for c in calls], pa.string()),
            "occurred_at": pa.array([c.occurred_at for c in calls], _TS),
            "operation": pa.array([c.operation for c in calls], pa.string()),
            "logical_address": pa.array([c.logical_address for c in calls], pa.string()),
            "consumer_id": pa.array([c.consumer_id or "" for c in calls], pa.string()),
            "status": pa.array([c.status for c in calls], pa.string()),
            "county_at_ingest": pa.nulls(len(calls), pa.string()).fill_null(""),
            "source_partition": pa.array(partitions, pa.int32()),
            "source_offset": pa.array(offsets, pa.int64()),
        }
    )


def write_once(client: Any, topic: str, table: pa.Table, ends: dict[int, int]) -> int:
    """The rows the seen-id store does not hold, inserted under one token,
    then the checkpoints: the least a loop does to be exactly-once."""
    ids = table.column("event_id")
    client.command("TRUNCATE TABLE seen_probe")
    client.insert_arrow("seen_probe", pa.table({"v": ids}))
    seen = client.query_arrow(
        "SELECT event_id FROM ntjp_calls_seen WHERE event_id IN (SELECT v FROM seen_probe)"
    ).column(0)
    if len(seen):
        table = table.filter(pc.invert(pc.is_in(ids, value_set=seen.combine_chunks())))
    token = f"{topic}|" + ",".join(f"{p}:{o}" for p, o in sorted(ends.items()))
    table = table.append_column("batch_token", pa.repeat(token, table.num_rows))
    settings = {
        "insert_deduplication_token": token,
        "deduplicate_blocks_in_dependent_materialized_views": 1,
    }
    client.insert_arrow(RAW_TABLE, table, settings=settings)
    parts = sorted(ends)
    client.insert(
        CHECKPOINTS,
        [[topic, p, ends[p]] for p in parts],
        column_names=["topic", "partition", "next_offset"],
    )
    return int(table.num_rows)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import clickhouse_connect
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from bench.procinfo import self_peak_kb

    dsn = f"chdb://{args.chdb}"
    boot = clickhouse_connect.get_client(dsn=dsn)
    boot.command("CREATE DATABASE IF NOT EXISTS baseline")
    client = clickhouse_connect.get_client(dsn=dsn, database="baseline")
    for stmt in raw_ddl(args.views or args.exactly_once, once=args.exactly_once):
        client.command(stmt)
    client.command("CREATE TABLE IF NOT EXISTS seen_probe (v String) ENGINE = Memory")

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
        decode = validated_batch if args.exactly_once else arrow_batch
        while consumed < args.expect:
            data = await consumer.getmany(timeout_ms=200, max_records=args.max_records)
            records = [r for rs in data.values() for r in rs]
            if records:
                table = decode(
                    [r.value for r in records],
                    [r.partition for r in records],
                    [r.offset for r in records],
                )
                consumed += len(records)
                # the previous insert ran while this batch was fetched and decoded
                await asyncio.wrap_future(pending[0]) if pending else None
                landed()
                job: Future[Any]
                if args.exactly_once:
                    ends = {tp.partition: rs[-1].offset + 1 for tp, rs in data.items() if rs}
                    job = pool.submit(write_once, client, args.topic, table, ends)
                else:
                    job = pool.submit(client.insert_arrow, RAW_TABLE, table)
                pending = (job, len(records))
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
        "exactly_once": args.exactly_once,
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
    ap.add_argument(
        "--exactly-once", action="store_true",
        help="with the views: validate, look up seen ids, insert under a token, checkpoint",
    )  # fmt: skip
    args = ap.parse_args(argv)
    out = asyncio.run(run(args))
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
