"""Replay: rebuild every derived table from stored data, through the running
worker's backfill (`POST /api/v1/backfill`), while it keeps ingesting.

- `raw`: rollups, seen stores and lifecycle tables recomputed from the raw
  tables ClickHouse holds (`statflow backfill TOPIC --from-raw`), for calls and
  SOB transactions: the year at whatever scale the reports benchmark left;
- `kafka`: the calls topic replayed from Kafka through the decoder and sink
  (`statflow backfill ntjp.calls.v1`); Kafka holds the un-amplified year.

Timed from the request to the job's `done` (shadow database, copy or replay,
swap)."""

from __future__ import annotations

import time
from typing import Any

from bench.ingest import Dataset
from bench.procinfo import PeakSampler
from core.auth import auth_headers
from schemas.topics import NTJP_CALLS, SOB_TRANSACTIONS

RUNS = (
    (NTJP_CALLS.name, "raw", "ntjp_calls"),
    (SOB_TRANSACTIONS.name, "raw", "sob_transactions"),
    (NTJP_CALLS.name, "kafka", "ntjp_calls"),
)


def run(ds: Dataset) -> dict[str, Any]:
    w = ds.worker
    assert w is not None
    headers = auth_headers(ds.settings, "operator", "bench")
    out = []
    with PeakSampler(w.pid) as mem:
        for topic, source, table in RUNS:
            t0 = time.monotonic()
            r = w.client.post("/api/v1/backfill", json={"topic": topic, "source": source},
                              headers=headers)  # fmt: skip
            r.raise_for_status()
            job = r.json()
            while job["state"] not in ("done", "failed"):
                time.sleep(0.2)
                job = w.client.get(f"/api/v1/backfill/{job['id']}").json()
            seconds = time.monotonic() - t0
            if job["state"] != "done":
                raise RuntimeError(f"backfill {topic} from {source} failed: {job['error']}")
            out.append(
                {
                    "topic": topic,
                    "source": source,
                    "table": table,
                    "rows": job["read"],
                    "seconds": seconds,
                    "rows_per_s": job["read"] / seconds if seconds else None,
                    "swapped": job["swapped"],
                }
            )
    return {"runs": out, "peak_rss_mb": mem.figures()["peak_rss_mb"]}


def rows(f: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            f"{r['topic']} from {r['source']}",
            r["rows"],
            round(r["seconds"], 1),
            round(r["rows_per_s"] or 0),
            len(r["swapped"]),
        ]  # fmt: skip
        for r in f["runs"]
    ]


HEADERS = ["replay", "rows", "seconds", "rows/s", "tables swapped"]
