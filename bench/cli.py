"""`python -m bench [ingest freshness reports replay scaleout profile render | all] [--events N] [--scale K[,K2]] [--quick]`."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import data, results

NAMES = ("ingest", "freshness", "reports", "replay", "scaleout", "profile", "render")
DEFAULT = ("ingest", "freshness", "reports", "replay", "scaleout")
TARGETS: dict[str, dict[str, str]] = {
    "ingest": {
        "statflow / bare loop + views": ">= 1.0",
        "statflow / bare loop": ">= 1.0 (aim)",
        "statflow peak RSS / bare loop's": "<= 1.2",
    },
    "freshness": {"delay p99 s": "<= 2", "worker peak RSS MB": "<= 500"},
    "reports": {
        "every report warm p95 ms (at the largest scale)": "<= 100",
        "p95 at the largest scale / p95 at the smallest": "<= 1.5",
    },
    "replay": {},
    "scaleout": {},
    "profile": {},
    "render": {"json body of 7,000 rows p95 ms": "<= 20"},
}
# Benchmarks that run in this process without the local stack.
STACKLESS = ("render",)


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument(
        "names", nargs="*", metavar="NAME",
        help=f"benchmarks to run: {', '.join(NAMES)} or all (default: {' '.join(DEFAULT)})",
    )  # fmt: skip
    ap.add_argument(
        "--events", type=int, help="calls to pre-load (default 1,000,000; quick 100,000)"
    )
    ap.add_argument("--quick", action="store_true", help="a short run: 100k events, 10 s freshness")
    ap.add_argument("--rate", type=int, default=5000, help="freshness: events per second")
    ap.add_argument("--duration", type=float, help="freshness: seconds (default 30; quick 10)")
    ap.add_argument("--repeat", type=int, default=20, help="reports: warm calls per report")
    ap.add_argument(
        "--scale", type=_scales, default=[1], metavar="K[,K2...]",
        help="reports/replay: copy the ingested year K times in ClickHouse (50 = national "
        "scale); several (10,50): reports are timed at each in turn and compared",
    )  # fmt: skip
    ap.add_argument(
        "--batch-records", type=int, default=None,
        help="STATFLOW_BATCH_MAX_RECORDS of the measured workers (default: statflow's)",
    )  # fmt: skip
    ap.add_argument("--no-baseline", action="store_true", help="ingest: skip the baseline")
    ap.add_argument("--keep", action="store_true", help="keep topics and chDB homes afterwards")
    ap.add_argument("--results", type=Path, default=results.RESULTS_DIR, help="where to write")
    args = ap.parse_args(argv)
    names = list(args.names) or list(DEFAULT)
    if "all" in names:
        names = list(NAMES)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}, all")
    args.names = [n for n in NAMES if n in names]  # dependency order
    if args.events is None:
        args.events = 100_000 if args.quick else 1_000_000
    if args.duration is None:
        args.duration = 10.0 if args.quick else 30.0
    if min(args.scale) < 1:
        ap.error("--scale must be at least 1")
    # reports runs every scale; replay (and the one-scale figures) the largest
    args.scales, args.scale = args.scale, max(args.scale)
    if args.events < 10_000:
        ap.error("--events must be at least 10,000 (several batches per partition)")
    return args


def _scales(text: str) -> list[int]:
    """`--scale 50` or `--scale 10,50`: the distinct scales, smallest first."""
    try:
        scales = sorted({int(k) for k in text.split(",") if k.strip()})
    except ValueError:
        scales = []
    if not scales:
        raise argparse.ArgumentTypeError(f"{text[:20]!r}: whole numbers, e.g. 50 or 10,50")
    return scales


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from bench import freshness, ingest, profile, replay, reports, scaleout
    from bench.env import BenchEnv

    common = {
        "events": args.events,
        "batch_max_records": args.batch_records,
        "quick": args.quick,
        "world": {"care_providers": data.CARE_PROVIDERS, "units": data.UNITS},
        "period": [data.START.date().isoformat(), data.END.date().isoformat()],
        "partitions": 4,
        "compression": "lz4",
    }
    failed: list[str] = []
    if "render" in args.names:  # in this process: no stack, no store
        from bench import render

        print("\n== render ==", flush=True)
        t0, load_before = time.monotonic(), _load()
        figures = render.run(repeat=args.repeat)
        how: dict[str, Any] = {"rows": render.ROWS, "repeat": args.repeat}
        _record("render", how, figures, render.HEADERS, render.rows(figures), t0, load_before, args)
    stacked = [n for n in args.names if n not in STACKLESS]
    if not stacked:
        return _exit(failed)
    with BenchEnv(keep=args.keep, batch_max_records=args.batch_records) as env:
        ds: ingest.Dataset | None = None
        for name in stacked:
            print(f"\n== {name} ==", flush=True)
            t0 = time.monotonic()
            load_before = _load()
            params: dict[str, Any] = dict(common)
            try:
                if name == "ingest":
                    ds = ingest.Dataset(env, "ingest", args.events)
                    ds.load_calls()
                    figures = ingest.run(ds, baseline=not args.no_baseline)
                    headers, rows = ["figure", "value", "target"], ingest.rows(figures)
                elif name == "profile":
                    if ds is not None:
                        pds = ds.fork("profile")
                    else:
                        pds = ingest.Dataset(env, "profile", args.events)
                        pds.load_calls()
                    figures = profile.run(pds, args.results)
                    headers, rows = ["stage (% of samples)", "%"], profile.rows(figures)
                elif name == "reports":
                    params["warm_calls"] = args.repeat
                    params["sob_transactions_per_call"] = data.SOB_PER_CALL
                    params["scale"] = args.scales if len(args.scales) > 1 else args.scale
                    rds = ds if ds is not None else ingest.Dataset(env, "reports", args.events)
                    figures = reports.run(rds, args.repeat, args.scales)
                    ds = rds  # replay works on what the reports left
                    headers = reports.headers(args.scales)
                    rows = reports.rows(figures)
                elif name == "scaleout":
                    src = ds if ds is not None else ingest.Dataset(env, "scaleout", args.events)
                    if ds is not None and ds.worker is not None:
                        ds.worker.close()  # the machine's cores go to the measured workers
                    figures = scaleout.run(src)
                    ds = src
                    headers, rows = scaleout.HEADERS, scaleout.rows(figures)
                elif name == "replay":
                    params["scale"] = args.scale
                    if ds is None or ds.worker is None or ds.sob_loaded == 0:
                        ds = ds if ds is not None else ingest.Dataset(env, "replay", args.events)
                        reports.run(ds, 1, args.scale)
                    figures = replay.run(ds)
                    headers, rows = replay.HEADERS, replay.rows(figures)
                else:
                    params.pop("events")
                    params.update(rate=args.rate, duration_s=args.duration, tick_s=freshness.TICK)
                    figures = freshness.run(env, args.rate, args.duration)
                    headers, rows = ["figure", "value", "target"], freshness.rows(figures)
            except Exception:  # noqa: BLE001 - report, go on with the next benchmark
                traceback.print_exc()
                failed.append(name)
                continue
            _record(name, params, figures, headers, rows, t0, load_before, args)
        if ds is not None:
            ds.close()
    return _exit(failed)


def _record(
    name: str,
    params: dict[str, Any],
    figures: dict[str, Any],
    headers: list[str],
    rows: list[list[Any]],
    t0: float,
    load_before: list[float],
    args: argparse.Namespace,
) -> None:
    """Write a benchmark's result file and print its table."""
    figures["seconds"] = time.monotonic() - t0
    figures["load_avg_before"] = load_before
    figures["load_avg_after"] = _load()
    doc = results.document(name, params, figures, TARGETS[name])
    path = results.write(doc, args.results)
    print(results.table(headers, rows))
    print(
        f"({figures['seconds']:.0f} s; load {load_before} -> {figures['load_avg_after']}; {path})"
    )


def _exit(failed: list[str]) -> int:
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
