"""The worker's own small HTTP endpoint: /metrics and /healthz.

`statflow worker` serves no report API, yet its ingest counters, consumer lag
and sink failures live in its process only; with STATFLOW_METRICS_PORT set it
serves them here so Prometheus can scrape every worker separately.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from core import metrics


async def _metrics(_: Request) -> PlainTextResponse:
    return PlainTextResponse(metrics.render(), media_type=metrics.CONTENT_TYPE)


async def _healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def metrics_app() -> Starlette:
    return Starlette(routes=[Route("/metrics", _metrics), Route("/healthz", _healthz)])
