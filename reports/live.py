"""Operations view: the last hour per minute, dead letters, checkpoints.

Every figure is shared truth, the same whichever process serves it (issue
19): rates, freshness and dead letters from ClickHouse, lag from the broker's
end offsets against the ClickHouse checkpoints (the authority on where ingest
got to; a dead worker's partitions keep their lag), workers and the
partitions each holds from the heartbeats their ingest loops write
(streams/pause.py). Nothing from the serving process's metrics registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from core import metrics
from reports.reader import Reader
from sinks.clickhouse import check_identifier

SQL_MINUTES = (
    "SELECT formatDateTime(minute, '%Y-%m-%dT%H:%i:00Z') AS m, operation, status, sum(calls) "
    "FROM ntjp_calls_minute WHERE minute >= now() - INTERVAL 1 HOUR "
    "GROUP BY m, operation, status ORDER BY m, operation, status"
)


SQL_REASONS = (
    "SELECT formatDateTime(at, '%Y-%m-%dT%H:%i:%SZ'), topic, source_partition, source_offset, "
    "reason FROM dead_letters "
    "ORDER BY at DESC, topic, source_partition, source_offset DESC "
    # a message re-read after a crash is rejected (and recorded) again
    "LIMIT 1 BY topic, source_partition, source_offset LIMIT 20"
)
SQL_FILES = (
    "SELECT formatDateTime(max(at), '%Y-%m-%dT%H:%i:%SZ') AS t, name, kind, "
    "argMax(status, at), argMax(rows, at), argMax(corrected, at) "
    "FROM reconciliation_files GROUP BY sha256, name, kind ORDER BY t DESC, name LIMIT 10"
)


WORKER_WINDOW = dt.timedelta(seconds=30)  # streams/pause.LIVE_WINDOW: silent longer = gone
DELAY_MINUTES = 5  # the ingest delay percentiles cover this many minutes

# per raw table: events per minute of ingest over the last hour, the newest
# event time among rows ingested in the last day, and a histogram of the
# ingest delay (ms, 10 ms buckets below 10 s, 1 s below 1 h, then ">= 1 h")
SQL_TOPIC_MINUTES = (
    "SELECT formatDateTime(toStartOfMinute(ingested_at), '%Y-%m-%dT%H:%i:00Z') AS m, count() "
    "FROM {table} WHERE ingested_at >= now64(3) - INTERVAL 1 HOUR GROUP BY m ORDER BY m"
)
SQL_NEWEST = (
    "SELECT max(occurred_at), count(), now64(3) FROM {table} "
    "WHERE ingested_at >= now64(3) - INTERVAL 1 DAY"
)
SQL_DELAYS = (
    "SELECT multiIf(d < 10000, intDiv(d, 10) * 10, d < 3600000, intDiv(d, 1000) * 1000, "
    "3600000) AS b, count() FROM (SELECT greatest(toUnixTimestamp64Milli(ingested_at) - "
    "toUnixTimestamp64Milli(occurred_at), 0) AS d FROM {table} "
    "WHERE ingested_at >= now64(3) - INTERVAL {minutes:UInt32} MINUTE) GROUP BY b"
)
SQL_DEAD = (
    "SELECT topic, count(), countIf(at >= now64(3) - INTERVAL 1 HOUR) "
    "FROM dead_letters FINAL GROUP BY topic ORDER BY topic"
)
SQL_CHECKPOINTS = (
    "SELECT topic, partition, max(next_offset) FROM ingest_checkpoints GROUP BY topic, partition"
)
SQL_WORKERS = (
    "SELECT worker, topic, max(at), argMax(partitions, at), argMax(paused_epoch, at), "
    "any(now64(3)) FROM worker_heartbeats WHERE at >= now64(3) - INTERVAL 10 MINUTE "
    "GROUP BY worker, topic ORDER BY worker, topic"
)


def percentile(histogram: Sequence[tuple[float, int]], q: float) -> float | None:
    """Nearest-rank percentile (0 < q <= 1) of values given as (value, count),
    pure; None for no values."""
    total = sum(n for _, n in histogram)
    if total <= 0:
        return None
    rank = max(1, -(-int(q * total * 1_000_000) // 1_000_000))  # ceil(q * total), exactly
    seen = 0
    for value, n in sorted(histogram):
        seen += n
        if seen >= rank:
            return value
    return sorted(histogram)[-1][0]


def lag_rows(
    ends: Mapping[tuple[str, int], int] | None,
    checkpoints: Mapping[tuple[str, int], int],
    owners: Mapping[tuple[str, int], str],
    topics: Sequence[str],
) -> list[dict[str, Any]]:
    """Per partition of `topics`: the broker's end offset minus the ClickHouse
    checkpoint (nothing ingested yet: the whole partition), pure. A partition
    nobody owns keeps its lag (it rises while its worker is dead). `ends` None
    (broker not answering): the lag is unknown, the checkpoints still shown."""
    keys = set(checkpoints) if ends is None else set(ends)
    out = []
    for topic, p in sorted(k for k in keys if k[0] in topics):
        done = checkpoints.get((topic, p), 0)
        end = None if ends is None else ends[(topic, p)]
        out.append({
            "topic": topic, "partition": p, "value": None if end is None else max(end - done, 0),
            "end_offset": end, "checkpoint": done, "worker": owners.get((topic, p), ""),
        })  # fmt: skip
    return out


def alive_workers(
    rows: Sequence[tuple[str, str, dt.datetime, Sequence[int], int]],
    now: dt.datetime,
    window: dt.timedelta = WORKER_WINDOW,
) -> tuple[list[dict[str, Any]], dict[tuple[str, int], str]]:
    """Workers whose newest heartbeat for a topic is within the window, and
    who owns each partition (the newest heartbeat naming it wins), pure."""
    workers: list[dict[str, Any]] = []
    owners: dict[tuple[str, int], str] = {}
    when: dict[tuple[str, int], dt.datetime] = {}
    for worker, topic, at, parts, paused in rows:
        if at <= now - window:
            continue
        workers.append({
            "worker": worker, "topic": topic, "partitions": sorted(int(p) for p in parts),
            "last_seen_seconds": round((now - at).total_seconds(), 1), "paused": bool(paused),
        })  # fmt: skip
        for p in parts:
            if at > when.get((topic, int(p)), dt.datetime.min.replace(tzinfo=dt.UTC)):
                owners[(topic, int(p))], when[(topic, int(p))] = worker, at
    return workers, owners


def freshness_row(topic: str, newest: dt.datetime | None, now: dt.datetime,
                  delays: Sequence[tuple[float, int]]) -> dict[str, Any]:  # fmt: skip
    """Now minus the newest event stored, and the ingest delay p50/p99 (s), pure."""
    p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
    return {
        "topic": topic,
        "newest_event": None if newest is None else newest.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "age_seconds": None if newest is None else round((now - newest).total_seconds(), 1),
        "delay_p50_seconds": None if p50 is None else p50 / 1000,
        "delay_p99_seconds": None if p99 is None else p99 / 1000,
        "delay_events": sum(n for _, n in delays),
    }


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def live_view(
    reader: Reader,
    tables: Mapping[str, str] | None = None,
    ends: Mapping[tuple[str, int], int] | None = None,
) -> dict[str, Any]:
    """`tables`: full topic name -> its raw table (every event topic);
    `ends`: the broker's end offsets (streams/offsets.py), None if unknown."""
    # declared table names (agents/events.EVENT_TOPICS), checked all the same
    tables = {t: check_identifier(tb) for t, tb in (tables or {}).items()}
    per_minute = [
        {"minute": m, "topic": t, "operation": op, "status": st, "events": int(n)}
        for t in [next((t for t, tb in tables.items() if tb == "ntjp_calls"), "ntjp.calls.v1")]
        for m, op, st, n in reader.query_rows(SQL_MINUTES)
    ]
    fresh = []
    for topic, table in sorted(tables.items()):
        if table != "ntjp_calls":  # the calls rollup above has operation and status
            per_minute += [
                {"minute": m, "topic": topic, "operation": "", "status": "", "events": int(n)}
                for m, n in reader.query_rows(SQL_TOPIC_MINUTES.replace("{table}", table))
            ]
        newest, n, now = reader.query_rows(SQL_NEWEST.replace("{table}", table))[0]
        delays = [(float(b), int(c)) for b, c in reader.query_rows(
            SQL_DELAYS.replace("{table}", table), {"minutes": DELAY_MINUTES})]  # fmt: skip
        fresh.append(freshness_row(topic, _utc(newest) if n else None, _utc(now), delays))
    beats = reader.query_rows(SQL_WORKERS)
    now = _utc(beats[0][5]) if beats else dt.datetime.now(dt.UTC)
    workers, owners = alive_workers(
        [(str(w), str(t), _utc(a), list(p), int(e)) for w, t, a, p, e, _ in beats], now
    )
    checkpoints = {(str(t), int(p)): int(o) for t, p, o in reader.query_rows(SQL_CHECKPOINTS)}
    return {
        "per_minute": per_minute,
        "consumer_lag": lag_rows(ends, checkpoints, owners, sorted(tables)),
        "dead_letters": [
            {"topic": str(t), "value": int(n), "last_hour": int(h)}
            for t, n, h in reader.query_rows(SQL_DEAD)
        ],
        "freshness": fresh,
        "workers": workers,
        # a topic prefix (tests, shared clusters) is kept: it names the real topic
        "latest_dead_letter_reasons": [
            dict(zip(("at", "topic", "partition", "offset", "reason"), r, strict=True))
            for r in reader.query_rows(SQL_REASONS)
        ],
        "last_reconciliation": [
            dict(
                zip(
                    ("at", "file", "kind", "status", "rows", "corrected_or_differing"),
                    r,
                    strict=True,
                )
            )  # fmt: skip
            for r in reader.query_rows(SQL_FILES)
        ],
    }


def shared_metrics(view: Mapping[str, Any]) -> str:
    """The live view's figures in the Prometheus text format, pure: the same
    shared truth for Grafana, whichever process is scraped."""
    lines: list[str] = []
    lines += metrics.family(
        "statflow_partition_lag", "gauge",
        "broker end offset minus the ClickHouse checkpoint, per partition",
        [({"topic": r["topic"], "partition": str(r["partition"])}, r["value"])
         for r in view.get("consumer_lag", []) if r["value"] is not None],
    )  # fmt: skip
    lines += metrics.family(
        "statflow_dead_letters", "gauge", "dead letters stored in ClickHouse, per topic",
        [({"topic": r["topic"]}, r["value"]) for r in view.get("dead_letters", [])],
    )  # fmt: skip
    fresh = view.get("freshness", [])
    lines += metrics.family(
        "statflow_freshness_seconds", "gauge", "now minus the newest event stored, per topic",
        [({"topic": r["topic"]}, r["age_seconds"]) for r in fresh if r["age_seconds"] is not None],
    )  # fmt: skip
    lines += metrics.family(
        "statflow_ingest_delay_seconds", "gauge",
        f"ingest delay (ingested_at - occurred_at) over the last {DELAY_MINUTES} minutes",
        [({"topic": r["topic"], "quantile": q}, r[f"delay_p{q[2:]}_seconds"])
         for r in fresh for q in ("0.50", "0.99") if r[f"delay_p{q[2:]}_seconds"] is not None],
    )  # fmt: skip
    workers = view.get("workers", [])
    lines += metrics.family(
        "statflow_workers_alive", "gauge", "workers with a heartbeat in the last 30 s",
        [({}, len({w["worker"] for w in workers}))],
    )  # fmt: skip
    lines += metrics.family(
        "statflow_worker_partitions", "gauge", "partitions each live worker holds, per topic",
        [({"worker": w["worker"], "topic": w["topic"]}, len(w["partitions"])) for w in workers],
    )  # fmt: skip
    return "\n".join(lines) + "\n"
