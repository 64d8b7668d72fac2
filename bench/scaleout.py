"""Scale-out: the pre-loaded calls consumed by 1 and then 2 `statflow worker`
processes writing through an http:// ClickHouse DSN — here the embedded store's
ClickHouse HTTP interface (`statflow store`), the path a ClickHouse server
takes. Each run has its own consumer group, database and chDB home.

Progress is read from the store: the sum over partitions of the newest
checkpoint (records consumed and written), every 0.25 s; events/s is computed
as for `ingest` (from the first progress to the end), the end being the moment
every record is checkpointed and the raw table holds every call once."""

from __future__ import annotations

import time
from typing import Any

import clickhouse_connect

from bench.env import Worker, free_port
from bench.ingest import Dataset
from bench.procinfo import PeakSampler
from bench.stats import Progress, steady_rate
from core import auth
from schemas.topics import NTJP_CALLS

SECRET = "bench-scaleout-secret-0123456789abcdef"
CHECKPOINTED = (
    "SELECT sum(o) FROM (SELECT max(next_offset) AS o FROM ingest_checkpoints "
    "WHERE topic = {t:String} GROUP BY partition)"
)


def run_one(ds: Dataset, n_workers: int) -> dict[str, Any]:
    own = ds.fork(f"scaleout{n_workers}")
    port = free_port()
    s = own.settings.with_(jwt_secret=SECRET, clickhouse_http_port=port)
    store = Worker(s, s.home / "store.log", command="store")
    workers: list[Worker] = []
    try:
        store.start()
        token = auth.issue(SECRET, "bench", [], ["service"])
        remote = s.with_(clickhouse_dsn=f"http://bench:{token}@127.0.0.1:{port}",
                         clickhouse_http_port=0)  # fmt: skip
        client = clickhouse_connect.get_client(dsn=remote.dsn, database=s.clickhouse_database)
        topic = NTJP_CALLS.full(s)
        total = ds.loaded.calls
        t_spawn = time.monotonic()
        for i in range(n_workers):
            w = Worker(remote.with_(metrics_port=free_port()), s.home / f"worker{i}.log", "worker")
            workers.append(w.spawn())
        samples: list[Progress] = []
        deadline = time.monotonic() + max(900, total / 1000)
        with PeakSampler(store.pid) as store_mem:
            while time.monotonic() < deadline:
                for w in workers:
                    w.check_alive()
                try:
                    n = int(client.query(CHECKPOINTED, {"t": topic}).result_rows[0][0] or 0)
                except Exception:  # noqa: BLE001 - the tables may not exist yet
                    n = 0
                if n > 0:
                    samples.append(Progress(time.monotonic(), min(n, total)))
                if n >= total:
                    break
                time.sleep(0.25)
            else:
                raise TimeoutError(f"{n_workers} workers did not finish\n{workers[0].tail()}")
        rows = client.query("SELECT count(), uniqExact(event_id) FROM ntjp_calls").result_rows[0]
        client.close()
        rate = steady_rate(samples, total)
        return {
            "workers": n_workers,
            "events": total,
            "stored_rows": int(rows[0]),
            "distinct_events": int(rows[1]),
            "events_per_s": rate["events_per_s"],
            "measured_seconds": rate["measured_seconds"],
            "wall_from_spawn_s": rate["t_last"] - t_spawn,
            "store_peak_rss_mb": store_mem.figures()["peak_rss_mb"],
        }
    finally:
        for w in workers:
            w.close()
        store.close()


def run(ds: Dataset, counts: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    if ds.loaded.calls == 0:
        ds.load_calls()
    runs = [run_one(ds, n) for n in counts]
    base = runs[0]["events_per_s"] or 0
    for r in runs:
        r["speedup"] = (r["events_per_s"] or 0) / base if base else None
    return {"runs": runs}


def rows(f: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            r["workers"],
            r["events"],
            round(r["events_per_s"] or 0),
            r["speedup"],
            r["stored_rows"],
            r["store_peak_rss_mb"],
        ]  # fmt: skip
        for r in f["runs"]
    ]


HEADERS = ["workers", "events", "events/s", "speedup", "rows stored", "store RSS MB"]
