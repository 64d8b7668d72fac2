"""Report latency: every open report of the catalogue over the loaded year (calls,
SOB transactions and 1177 e-services), cold
(the first call of each report after a restart of the worker) and warm (`repeat`
further calls), timed from the client (request sent to whole response read).
Reports with drill-down levels are also asked at the unit level when that is
not their default. With several scales (`--scale 10,50`) the same data set is
copied up to each in turn and measured at each, and the table compares the
largest scale with the smallest."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bench.ingest import Dataset
from bench.procinfo import PeakSampler
from bench.scale import amplify
from bench.stats import summary
from schemas.topics import BY_NAME, SOB_TRANSACTIONS

PERIOD = {"from": "2024-01-01", "to": "2024-12-31"}
# Targets of issue 17, at the largest scale measured.
P95_MS = 100.0
GROWTH = 1.5  # p95 at the largest scale / p95 at the smallest: cost follows the period
# The finest organisation level: a drill-down's largest answer next to its default.
UNIT_LEVEL = "unit"


def cases(listing: Sequence[dict[str, Any]]) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """What to time, from `GET /api/v1/reports`: (name, query parameters) of
    every open report over PERIOD with default parameters (a drill-down's
    default is its last, finest level), and `level=unit` for a drill-down
    whose default is another level; and the reports skipped (not open)."""
    out: list[tuple[str, dict[str, str]]] = []
    skipped = []
    for rep in listing:
        name = f"{rep['service']}/{rep['id']}"
        if "open" not in rep.get("tiers", []):
            skipped.append(name)
            continue
        out.append((name, dict(PERIOD)))
        levels = list(rep.get("levels") or [])
        if UNIT_LEVEL in levels and levels[-1] != UNIT_LEVEL:
            out.append((f"{name}?level={UNIT_LEVEL}", {**PERIOD, "level": UNIT_LEVEL}))
    return out, skipped


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
    todo, skipped = cases(listing)
    out: list[dict[str, Any]] = []
    for name, params in todo:
        path = f"/api/v1/reports/{name.split('?')[0]}"
        times: list[float] = []
        status = set()
        size = rows = 0
        for _ in range(repeat + 1):
            t = time.perf_counter()
            r = w.client.get(path, params=params)
            times.append(time.perf_counter() - t)
            status.add(r.status_code)
            size = len(r.content)
            if r.status_code == 200:
                rows = len(r.json().get("rows", []))
        warm = summary([x * 1000 for x in times[1:]])
        out.append(
            {
                "report": name,
                "params": params,
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


def run(ds: Dataset, repeat: int = 20, scale: int | Sequence[int] = 1) -> dict[str, Any]:
    """Load the SOB transactions and e-services (and the calls if `ingest` did
    not), let a worker take everything in; then for each scale, smallest
    first: copy the raw rows up to that many times (bench/scale.py; only the
    copies the previous scale did not make), restart the worker and time every
    report. The last worker is left running (replay works on it)."""
    scales = sorted({scale} if isinstance(scale, int) else set(scale))
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
    by_scale: dict[str, Any] = {}
    made = 1  # copies of the raw rows that exist
    for k in scales:
        if ds.worker is not None:
            ds.worker.close()
        scaled = amplify(ds.settings, k, made) if k > made else {"factor": k, "seconds": 0.0}
        made = max(made, k)
        w = ds.new_worker(f"reports-x{k}").start()
        with PeakSampler(w.pid) as mem:
            figures = measure(ds, repeat)
        figures.update(scale=scaled, peak_rss_mb=mem.figures()["peak_rss_mb"])
        by_scale[str(k)] = figures
    last = by_scale[str(scales[-1])]
    return {
        **last,  # the largest scale's figures where one scale's were before
        "calls": ds.loaded.calls,
        "sob_transactions": ds.sob_loaded,
        "etj_records": ds.etj_loaded,
        "sob_and_catch_up_seconds": load_seconds,
        "scales": scales,
        "by_scale": by_scale,
    }


def rows(f: dict[str, Any]) -> list[list[Any]]:
    """The table: one scale as before; several: p50 and p95 at each, and the
    largest scale's p95 over the smallest's, with the targets marked."""
    scales = f.get("scales") or [1]
    if len(scales) > 1:
        return compare_rows(f["by_scale"], scales)
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
                if ok and w.get("p95", 1e9) <= P95_MS
                else ("FAIL" if ok else f"HTTP {r['status']}"),
            ]
        )
    return out


HEADERS = ["report (ms)", "cold", "warm p50", "warm p95", "warm p99", "rows", "p95<=100"]


def headers(scales: Sequence[int]) -> list[str]:
    if len(scales) <= 1:
        return HEADERS
    lo, hi = scales[0], scales[-1]
    per = [h for k in scales for h in (f"p50 x{k}", f"p95 x{k}")]
    return [
        "report (ms)",
        *per,
        f"rows x{hi}",
        f"p95 x{hi}/x{lo}",
        f"p95 x{hi}<={P95_MS:g}",
        f"ratio<={GROWTH:g}",
    ]


def compare_rows(by_scale: dict[str, Any], scales: Sequence[int]) -> list[list[Any]]:
    """Per report (and level): p50/p95 at each scale, rows at the largest,
    p95(largest) / p95(smallest), and whether the largest scale's p95 and that
    ratio meet the targets ("HTTP ..." when a call failed)."""
    lo, hi = str(scales[0]), str(scales[-1])
    found = {k: {r["report"]: r for r in by_scale[str(k)]["reports"]} for k in scales}
    out = []
    for name in found[scales[-1]]:
        cells: list[Any] = [name]
        for k in scales:
            w = found[k].get(name, {}).get("warm_ms", {})
            cells += [w.get("p50"), w.get("p95")]
        big, small = by_scale[hi], by_scale[lo]
        top = next(r for r in big["reports"] if r["report"] == name)
        base = next((r for r in small["reports"] if r["report"] == name), None)
        p95_hi = top["warm_ms"].get("p95")
        p95_lo = base["warm_ms"].get("p95") if base else None
        ratio = p95_hi / p95_lo if p95_hi is not None and p95_lo else None
        failed = [s for r in (top, base) if r for s in r["status"] if s != 200]
        if failed:
            marks = [f"HTTP {sorted(set(failed))}", "-"]
        else:
            marks = [
                "ok" if p95_hi is not None and p95_hi <= P95_MS else "FAIL",
                "ok" if ratio is not None and ratio <= GROWTH else "FAIL",
            ]
        out.append([*cells, top["rows"], ratio, *marks])
    return out
