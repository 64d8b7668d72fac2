"""The baseline: the physical limit of this ingest in Python, with no framework.

A bare aiokafka `getmany` loop (the worker's fetch settings), `orjson.loads` per
message, columns built from the dicts, and one columnar clickhouse-connect insert
per partition batch into a chDB table created from statflow's own DDL for
`ntjp_calls` (so the same raw schema, partitioning, order and indexes), run in a
thread like the worker's sink. Left out on purpose: validation, deduplication
(seen-id lookup), the county lookup, rollup views, DLQ, checkpoints and commits.

Run as `python -m bench.baseline ...` in its own process (chDB is one per process);
it prints one JSON object with its progress samples and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import sys
import time
from typing import Any

import orjson

RAW_TABLE = "ntjp_calls"


def raw_ddl() -> str:
    """statflow's CREATE TABLE for the raw calls, without its views."""
    from sinks.migrate import load

    for migration in load():
        for stmt in migration.statements:
            if re.match(rf"CREATE TABLE IF NOT EXISTS {RAW_TABLE}\s*\(", stmt):
                return stmt
    raise LookupError(f"no CREATE TABLE {RAW_TABLE} in sinks/migrations")


def columns(values: list[bytes], partition: int, offsets: list[int]) -> dict[str, list[Any]]:
    rows = [orjson.loads(v) for v in values]
    return {
        "event_id": [r["event_id"] for r in rows],
        "occurred_at": [dt.datetime.fromisoformat(r["occurred_at"]) for r in rows],
        "operation": [r["operation"] for r in rows],
        "logical_address": [r["logical_address"] for r in rows],
        "consumer_id": [r.get("consumer_id") or "" for r in rows],
        "status": [r.get("status", "ok") for r in rows],
        "county_at_ingest": [""] * len(rows),
        "source_partition": [partition] * len(rows),
        "source_offset": offsets,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import clickhouse_connect
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from bench.procinfo import self_peak_kb

    dsn = f"chdb://{args.chdb}"
    boot = clickhouse_connect.get_client(dsn=dsn)
    boot.command("CREATE DATABASE IF NOT EXISTS baseline")
    client = clickhouse_connect.get_client(dsn=dsn, database="baseline")
    client.command(raw_ddl())

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
    try:
        tps = [TopicPartition(args.topic, p) for p in range(args.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while total < args.expect:
            data = await consumer.getmany(timeout_ms=200, max_records=args.max_records)
            for tp, records in data.items():
                cols = columns(
                    [r.value for r in records], tp.partition, [r.offset for r in records]
                )
                await asyncio.to_thread(
                    client.insert,
                    RAW_TABLE,
                    list(cols.values()),
                    column_names=list(cols),
                    column_oriented=True,
                )
                total += len(records)
                samples.append((time.monotonic(), total))
            if time.monotonic() - t_start > args.timeout:
                break
    finally:
        await consumer.stop()
    stored = int(client.query(f"SELECT count() FROM {RAW_TABLE}").result_rows[0][0])
    return {
        "samples": samples,
        "consumed": total,
        "batches": len(samples),
        "stored": stored,
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
    args = ap.parse_args(argv)
    out = asyncio.run(run(args))
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
