"""The web front: a small static single-page app served by the API's process.

Everything the browser needs ships in `web/static/` (HTML, one stylesheet, the
app's ES modules — app.js the router, i18n.js, common.js, one per page: home.js,
report.js, live.js, login.js — and a self-written SVG chart module, chart.js):
no CDN, no network at run time. The
pages read the same public API as everyone else (`/api/v1/reports`,
`/api/v1/reports/{service}/{report}`, `/api/v1/live`); the only route of its
own is `/api/v1/meta` (also at its old address `/web/meta.json`), the facts of
the report declarations the catalogue endpoint does not carry: which column is
the key of which drill-down level, how each filter is asked for, fixed filter
choices, the county list, and what the pages call every filter, level and code
(reports/labels.py and each service's `labels`). So `web/static/` names no
service, report, filter, level or code: a new service needs no edit there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from reports import catalogue, declarations, labels
from reports.params import TEXT_FILTERS
from schemas.counties import COUNTIES, UNKNOWN_COUNTY, UNKNOWN_COUNTY_NAME

STATIC = Path(__file__).resolve().parent / "static"
# The page shell never goes stale in a browser cache; the assets it names are
# small and revalidated (ETag) on each load.
_NO_STORE = {"Cache-Control": "no-cache"}


def filter_input(report: declarations.Report, name: str) -> labels.FilterInput:
    """How the report page asks for one filter's values."""
    if name == labels.COUNTY_FILTER:
        return "counties"
    if name in report.choices:
        return "choices"
    return "names" if name in TEXT_FILTERS else "hsa_ids"


def report_meta(report: declarations.Report) -> dict[str, Any]:
    """Drill-down keys, filter inputs and fixed choices of one declared report."""
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
        "inputs": {name: filter_input(report, name) for name in report.filters},
    }


def meta() -> dict[str, Any]:
    services = catalogue.services().values()
    return {
        "labels": labels.page_labels(labels.merged([labels.SHARED, *(s.labels for s in services)])),
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

    @app.get("/live/dead-letters", include_in_schema=False)
    def dead_letters_page() -> FileResponse:
        return page()

    @app.get("/login", include_in_schema=False)
    def login_page() -> FileResponse:
        return page()

    @app.get("/api/v1/meta")
    def api_meta() -> JSONResponse:
        return JSONResponse(meta(), headers=_NO_STORE)

    @app.get("/web/meta.json", include_in_schema=False)
    def web_meta() -> JSONResponse:
        return JSONResponse(meta(), headers=_NO_STORE)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
