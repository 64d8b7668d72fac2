"""Answer rendering: one synthetic 7,000-row answer of `events-by-hierarchy`'s
shape (8 columns, strings and integers, a unit per row) turned into each
format's HTTP body, in this process, with no store and no HTTP. It times what
`reports/formats.py` adds after the query, which the report benchmark cannot
separate from the SQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from typing import Any

from bench.stats import summary
from reports import formats, ntjp
from reports.declarations import ReportParams
from reports.engine import Result

ROWS = 7_000
FORMATS = ("json", "csv", "xlsx", "jsonstat")
TARGETS = {"json": 20.0}  # ms for ROWS rows (issue 17); the others: linear and lean


def answer(n: int = ROWS, fmt: str = "json") -> Result:
    """`events-by-hierarchy` at its finest level as the engine hands it to a
    format: n units under 300 care providers in 21 counties, four activities,
    some names unknown (None), Swedish letters and CSV's special characters.
    Deterministic, so tests can pin what the formats make of it."""
    report = next(r for r in ntjp.SERVICE_DECL.reports if r.id == "events-by-hierarchy")
    rnd = random.Random(17)
    rows: list[list[Any]] = []
    for i in range(n):
        county, provider = f"{i % 21 + 1:02d}", i % 300
        rows.append(
            [
                county,
                f"Region {county} län",
                f"SE2321000{provider:05d}",
                None if provider % 7 == 0 else f'Vårdgivare {provider} "åäö", ;',
                f"SE2321000{i:05d}-E",
                f"Enhet {i}\nvårdcentral",
                ntjp.FOUR[i % 4],
                rnd.randint(0, 100_000),
            ]
        )
    params = ReportParams(dt.date(2024, 1, 1), dt.date(2024, 12, 31), level="activity", format=fmt)
    return Result(
        report,
        params,
        ntjp.HIERARCHY_COLUMNS,
        rows,
        ["a note"],
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )


def run(rows: int = ROWS, repeat: int = 20) -> dict[str, Any]:
    """Each format `repeat` times (after one warm-up call): ms and body bytes."""
    base = answer(rows)
    out: dict[str, Any] = {"rows": rows, "columns": len(base.columns), "formats": {}}
    for fmt in FORMATS:
        result = dataclasses.replace(base, params=dataclasses.replace(base.params, format=fmt))
        body, _ = formats.render(result)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            formats.render(result)
            times.append((time.perf_counter() - t) * 1000)
        out["formats"][fmt] = {"ms": summary(times), "bytes": len(body)}
    return out


HEADERS = ["format (ms)", "min", "p50", "p95", "bytes", "target"]


def rows(f: dict[str, Any]) -> list[list[Any]]:
    out = []
    for fmt, got in f["formats"].items():
        ms = got["ms"]
        target = TARGETS.get(fmt)
        mark = (
            "-"
            if target is None
            else f"p95 <= {target:g}: " + ("ok" if ms["p95"] <= target else "FAIL")
        )
        out.append([fmt, ms["min"], ms["p50"], ms["p95"], got["bytes"], mark])
    return out
