"""Report latency: every open report of the catalogue over the loaded year (calls,
SOB transactions and 1177 e-services), cold
(the first call of each report after a restart of the worker) and warm (`repeat`
further calls), timed from the client (request sent to whole response read)."""

from __future__ import annotations

import time
from typing import Any

from bench.ingest import Dataset
from bench.procinfo import PeakSampler
from bench.scale import amplify
from bench.stats import summary
from schemas.topics import BY_NAME, SOB_TRANSACTIONS

PERIOD = {"from": "2024-01-01", "to": "2024-12-31"}


def wait_all_in(ds: Dataset) -> None:
    """A freshly started worker has every call (through the API) and every SOB
    transaction and e-services record (by their counters: a new process
    consumes all of them)."""
    w = ds.worker
    assert w is not None
    timeout = max(600, ds.n / 1000)
    expected = {SOB_TRANSACTIONS.name: ds.sob_loaded, **ds.etj_loaded}
    for name, count in expected.items():
        topic = BY_NAME[name].full(ds.settings)

        def done(topic: str = topic, count: int = count) -> Any:
            n = sum(
                int(w.metric(metric, topic=topic))
                for metric in (
                    "statflow_events_accepted_total",
                    "statflow_events_duplicate_total",
                    "statflow_events_rejected_total",
                )
            )
            return True if n >= count else n

        w.wait_for(done, timeout, f"{name} ingested")
    w.wait_for(
        lambda: ds.calls_visible(w) == ds.loaded.counted_calls or "not yet",
        timeout,
        "calls visible",
    )


def measure(ds: Dataset, repeat: int) -> dict[str, Any]:
    w = ds.worker
    assert w is not None
    listing = w.client.get("/api/v1/reports").json()["reports"]
    out: list[dict[str, Any]] = []
    skipped = []
    for rep in listing:
        name = f"{rep['service']}/{rep['id']}"
        if "open" not in rep.get("tiers", []):
            skipped.append(name)
            continue
        path = f"/api/v1/reports/{name}"
        times: list[float] = []
        status = set()
        size = rows = 0
        for _ in range(repeat + 1):
            t = time.perf_counter()
            r = w.client.get(path, params=PERIOD)
            times.append(time.perf_counter() - t)
            status.add(r.status_code)
            size = len(r.content)
            if r.status_code == 200:
                rows = len(r.json().get("rows", []))
        warm = summary([x * 1000 for x in times[1:]])
        out.append(
            {
                "report": name,
                "cold_ms": times[0] * 1000,
                "warm_ms": warm,
                "status": sorted(status),
                "rows": rows,
                "bytes": size,
            }
        )
    floor = []
    for _ in range(repeat):
        t = time.perf_counter()
        w.client.get("/healthz")
        floor.append((time.perf_counter() - t) * 1000)
    return {
        "reports": out,
        "skipped_not_open": skipped,
        "params": PERIOD,
        "warm_calls": repeat,
        # the HTTP round trip through the same worker, without a query: the floor
        "healthz_ms": summary(floor),
    }


def run(ds: Dataset, repeat: int = 20, scale: int = 1) -> dict[str, Any]:
    """Load the SOB transactions and e-services (and the calls if `ingest` did
    not), let a worker
    take everything in, copy the raw rows up to `scale` times (bench/scale.py),
    restart the worker, then time every report."""
    if ds.loaded.calls == 0:
        ds.load_calls()
    ds.load_sob()
    ds.load_etj()
    if ds.worker is not None:
        ds.worker.close()
    t = time.monotonic()
    ds.new_worker("reports-load").start()
    wait_all_in(ds)
    load_seconds = time.monotonic() - t
    assert ds.worker is not None
    ds.worker.close()
    scaled = amplify(ds.settings, scale) if scale > 1 else {"factor": 1, "seconds": 0.0}
    w = ds.new_worker("reports").start()
    with PeakSampler(w.pid) as mem:
        figures = measure(ds, repeat)
    figures.update(
        calls=ds.loaded.calls,
        sob_transactions=ds.sob_loaded,
        etj_records=ds.etj_loaded,
        sob_and_catch_up_seconds=load_seconds,
        scale=scaled,
        peak_rss_mb=mem.figures()["peak_rss_mb"],
    )
    return figures


def rows(f: dict[str, Any]) -> list[list[Any]]:
    out = []
    for r in f["reports"]:
        w = r["warm_ms"]
        ok = r["status"] == [200]
        out.append(
            [
                r["report"],
                r["cold_ms"],
                w.get("p50"),
                w.get("p95"),
                w.get("p99"),
                r["rows"],
                "ok"
                if ok and w.get("p95", 1e9) <= 100
                else ("FAIL" if ok else f"HTTP {r['status']}"),
            ]
        )
    return out


HEADERS = ["report (ms)", "cold", "warm p50", "warm p95", "warm p99", "rows", "p95<=100"]
