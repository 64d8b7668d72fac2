"""The web front: a small static single-page app served by the API's process.

Everything the browser needs ships in `web/static/` (HTML, one stylesheet, the
app and a self-written SVG chart module): no CDN, no network at run time. The
pages read the same public API as everyone else (`/api/v1/reports`,
`/api/v1/reports/{service}/{report}`, `/api/v1/live`); the only route of its
own is `/web/meta.json`, the few facts of the report declarations the
catalogue endpoint does not carry (which column is the key of which
drill-down level, fixed filter choices, the county list).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from reports import catalogue, declarations
from schemas.counties import COUNTIES, UNKNOWN_COUNTY, UNKNOWN_COUNTY_NAME

STATIC = Path(__file__).resolve().parent / "static"
# The page shell never goes stale in a browser cache; the assets it names are
# small and revalidated (ETag) on each load.
_NO_STORE = {"Cache-Control": "no-cache"}


def report_meta(report: declarations.Report) -> dict[str, Any]:
    """Drill-down keys and fixed filter choices of one declared report."""
    levels: dict[str, dict[str, str | None]] = {}
    for level in report.levels:
        key = next(
            (c for c in report.columns if c.level == level and c.label_of is None),
            None,
        )
        if key is None:
            continue
        label = next((c for c in report.columns if c.label_of == key.name), None)
        levels[level] = {"key": key.name, "label": label.name if label else None}
    return {
        "levels": levels,
        "label_of": {c.name: c.label_of for c in report.columns if c.label_of},
        "dimensions": [c.name for c in report.columns if c.is_dimension],
        "choices": {name: list(values) for name, values in report.choices.items()},
    }


def meta() -> dict[str, Any]:
    return {
        "counties": [{"code": code, "name": name} for code, name in COUNTIES.items()]
        + [{"code": UNKNOWN_COUNTY, "name": UNKNOWN_COUNTY_NAME}],
        "reports": {
            f"{r.service}/{r.id}": report_meta(r)
            for s in catalogue.services().values()
            for r in s.reports
        },
    }


def mount_web(app: FastAPI) -> None:
    """Add the pages (`/`, `/r/{service}/{report}`, `/live`) and their assets."""
    index = STATIC / "index.html"

    def page() -> FileResponse:
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=_NO_STORE)

    @app.get("/", include_in_schema=False)
    def home() -> FileResponse:
        return page()

    @app.get("/r/{service}/{report}", include_in_schema=False)
    def report_page(service: str, report: str) -> FileResponse:
        return page()

    @app.get("/live", include_in_schema=False)
    def live_page() -> FileResponse:
        return page()

    @app.get("/login", include_in_schema=False)
    def login_page() -> FileResponse:
        return page()

    @app.get("/web/meta.json", include_in_schema=False)
    def web_meta() -> JSONResponse:
        return JSONResponse(meta(), headers=_NO_STORE)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
