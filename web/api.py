"""HTTP API: thin handlers over the report engine; errors mapped to statuses."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from starlette.exceptions import HTTPException
from starlette.middleware.base import RequestResponseEndpoint

from agents.events import EVENT_TOPICS, replayable
from core import auth, metrics
from core.errors import AccessDenied, AnswerTooLarge, ParameterError, SinkError, UnknownReportError
from reconcile import apply as reconcile_apply
from reconcile.confine import drop_folder
from reports import audit, catalogue, engine, formats, limits, quality
from reports import dead_letters as dlq
from reports.exports import ExportRequest, Exports
from reports.live import live_view, shared_metrics
from reports.ratelimit import RateLimiter
from schemas import asyncapi
from schemas.topics import BY_NAME
from sinks.leases import LeaseBusy
from streams import backfill, replay
from streams.context import Context
from streams.offsets import end_offsets
from web import openapi
from web.cached import Shared


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


log = logging.getLogger("statflow.api")
background: set[asyncio.Task[None]] = set()  # keeps running jobs referenced
MAX_BODY_BYTES = 1 << 20  # the JSON bodies of this API are a few hundred bytes
# Seconds one computation of the live figures serves the live view and /metrics.
LIVE_MAX_AGE = 1.0


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what was expected."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ParameterError("body", f"at most {MAX_BODY_BYTES} bytes of JSON")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        raise ParameterError("body", "expected a JSON object") from None
    if not isinstance(body, dict):
        raise ParameterError("body", "expected a JSON object")
    return body


def create_api(ctx: Context) -> FastAPI:
    app = FastAPI(
        title="statflow", version="1", docs_url="/api/docs", openapi_url="/api/openapi.json"
    )
    store = ctx.store
    settings = ctx.settings
    secret = auth.load_secret(settings)
    exports = Exports(
        settings,
        store,
        auth.load_secret(settings, "pseudonym-secret", settings.pseudonym_secret).encode(),
    )
    app.state.exports = exports
    limiter = RateLimiter(settings, secret)

    def is_logged_in(request: Request) -> bool:
        try:
            return caller_of(request) is not None
        except AccessDenied:
            return False  # a bad token is refused later; it is counted as open here

    @app.middleware("http")
    async def rate_limit(request: Request, call_next: RequestResponseEndpoint) -> Response:
        # Before anything else runs: open callers of the API are counted per
        # address (the web pages' own assets and the probes are not).
        if limiter.enabled and request.url.path.startswith("/api/") and not is_logged_in(request):
            client = request.client.host if request.client else ""
            verdict = await limiter.hit(client)
            if not verdict.allowed:
                response = _error(
                    429,
                    f"too many requests: open requests are limited to {limiter.limit} per "
                    f"{limiter.window} s from one address; retry after {verdict.retry_after} s "
                    "(or log in)",
                    retry_after=verdict.retry_after,
                )
                response.headers["Retry-After"] = str(verdict.retry_after)
                return response
        return await call_next(request)

    def caller_of(request: Request) -> auth.Caller | None:
        return auth.from_header(request.headers.get("authorization"), secret)

    def with_role(request: Request, role: str, what: str) -> auth.Caller:
        caller = logged_in(request)
        if role not in caller.roles:
            raise AccessDenied(f"{what} needs the role {role}", 403)
        return caller

    def logged_in(request: Request) -> auth.Caller:
        caller = caller_of(request)
        if caller is None:
            raise AccessDenied("send 'Authorization: Bearer <token>' (rule: logged-in only)", 401)
        return caller

    @app.exception_handler(ParameterError)
    async def _bad_param(_: Request, exc: ParameterError) -> JSONResponse:
        return _error(400, str(exc), parameter=exc.parameter)

    @app.exception_handler(UnknownReportError)
    async def _unknown(_: Request, exc: UnknownReportError) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(AccessDenied)
    async def _denied(_: Request, exc: AccessDenied) -> JSONResponse:
        response = _error(exc.status, str(exc))
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="statflow"'
        return response

    @app.exception_handler(AnswerTooLarge)
    async def _too_large(_: Request, exc: AnswerTooLarge) -> JSONResponse:
        return _error(400, str(exc), max_cells=exc.limit, cells=exc.cells)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own checks (typed query parameters) in the API's one error
        # shape; the offending value is not echoed.
        first = exc.errors()[0] if exc.errors() else {}
        name = str((first.get("loc") or ("", "request"))[-1])
        return _error(400, f"parameter '{name}': {first.get('msg', 'invalid')}", parameter=name)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(replay.KafkaUnavailable)
    async def _kafka(_: Request, exc: replay.KafkaUnavailable) -> JSONResponse:
        return _error(503, "Kafka is not answering; try again shortly")

    @app.exception_handler(LeaseBusy)
    async def _busy(_: Request, exc: LeaseBusy) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(SinkError)
    async def _sink(_: Request, exc: SinkError) -> JSONResponse:
        return _error(503, "the statistics store is not answering; try again shortly")

    @app.get("/api/v1/config")
    def config() -> dict[str, Any]:
        """What bounds every answer, so a client can plan its requests."""
        pdf_cells, _ = limits.limit_for("pdf", settings.max_cells, settings.max_pdf_cells)
        return {
            "limits": {
                "max_cells": settings.max_cells or None,
                "max_pdf_cells": pdf_cells or None,
                "rate_limit": {
                    "requests": limiter.limit or None,
                    "window_seconds": limiter.window,
                    "applies_to": "open requests (no bearer token) to /api/, per client address",
                },
                "period": {
                    "to": "a date after today is clamped to today (Europe/Stockholm); "
                    "the answer's notes say so",
                    "from": "a date before the report's data_start is clamped to it; "
                    "the answer's notes say so",
                },
            }
        }

    def openapi_doc() -> dict[str, Any]:
        # Built once, on first use: FastAPI's document with one path per
        # declared report and its parameters (web/openapi.py).
        if app.openapi_schema is None:
            app.openapi_schema = openapi.document(
                get_openapi(title=app.title, version=app.version, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi_doc  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_json() -> dict[str, Any]:
        """The same document as /api/openapi.json, at the usual address."""
        return openapi_doc()

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="statflow API")

    asyncapi_doc = asyncapi.document(settings)  # built once: it depends on settings only

    @app.get("/asyncapi.json")
    def asyncapi_json() -> dict[str, Any]:
        """The topics' AsyncAPI 3.0 document with this deployment's topic names,
        partitions and DLQ retention (schemas/asyncapi.json has the defaults)."""
        return asyncapi_doc

    @app.get("/api/v1/reports")
    def list_reports() -> dict[str, Any]:
        return {
            "services": [
                {"id": s.id, "title": s.title_sv, "title_en": s.title_en}
                for s in catalogue.services().values()
            ],
            "reports": [r.describe() for s in catalogue.services().values() for r in s.reports],
        }

    @app.get("/api/v1/reports/{service}/{report}")
    def get_report(service: str, report: str, request: Request) -> Response:
        started = time.perf_counter()
        caller = caller_of(request)
        pairs = list(request.query_params.multi_items())
        result = engine.run(
            service, report, pairs, store, caller=caller,
            open_care_providers=settings.open_care_providers, max_cells=settings.max_cells,
            max_pdf_cells=settings.max_pdf_cells,
        )  # fmt: skip
        if caller is not None:
            audit.record(store, caller, "report_read", service, report, result.params.echo())
        body, media = formats.render(result)
        headers = {}
        if result.notes and result.params.format == "csv":
            # CSV has no place for notes: they travel in a header (JSON, ASCII-escaped)
            headers["X-Statflow-Notes"] = json.dumps(result.notes, ensure_ascii=True)
        if result.params.format != "json":
            headers["Content-Disposition"] = f'attachment; filename="{formats.filename(result)}"'
        # Answered reports only: their ids and format are validated, so the
        # label values are bounded by the catalogue (an error is not a latency).
        metrics.observe(
            "statflow_report_seconds", time.perf_counter() - started,
            service=service, report=report, format=result.params.format,
        )  # fmt: skip
        return Response(body, media_type=media, headers=headers)

    @app.post("/api/v1/exports", status_code=202)
    async def create_export(request: Request) -> dict[str, Any]:
        caller = logged_in(request)
        return await exports.create(caller, ExportRequest.parse(await json_object(request)))

    @app.get("/api/v1/exports/{job_id}")
    async def export_status(job_id: str, request: Request) -> dict[str, Any]:
        return await exports.get(logged_in(request), job_id)

    @app.get("/api/v1/exports/{job_id}/download")
    async def export_download(job_id: str, request: Request) -> FileResponse:
        path, job = await exports.download(logged_in(request), job_id)
        return FileResponse(
            path, filename=f"statflow-export-{job['kind']}-{job_id}.{job['format']}"
        )

    @app.get("/api/v1/audit")
    def audit_log(request: Request, limit: int = 100) -> dict[str, Any]:
        with_role(request, auth.AUDITOR, "the audit log")
        return {"entries": audit.recent(store, min(max(limit, 1), 1000))}

    @app.post("/api/v1/annotations", status_code=201)
    async def annotate(request: Request) -> dict[str, Any]:
        caller = with_role(request, auth.OPERATOR, "recording a data-quality note")
        note = quality.Annotation.parse(await json_object(request))
        await asyncio.to_thread(quality.add, store, note, caller.subject)
        return {"recorded": True, "service": note.service, "from": note.date_from.isoformat(),
                "to": note.date_to.isoformat()}  # fmt: skip

    @app.get("/api/v1/annotations")
    def annotations_list(service: str = "") -> dict[str, Any]:
        return {"annotations": list(quality.listing(store, service or None))}

    @app.get("/api/v1/reconciliation")
    def reconciliation(limit: int = 1000, rows: bool = False) -> dict[str, Any]:
        # rows=true: per (unit, operation) the stream, the file and the correction
        return {"days": reconcile_apply.discrepancies(store, min(max(limit, 1), 10000), rows)}

    @app.post("/api/v1/reconciliation/run")
    async def reconcile_now(request: Request) -> dict[str, Any]:
        with_role(request, auth.OPERATOR, "applying file drops")
        # only the configured drop directory: an operator names files, not the server's disk
        folder = drop_folder((await json_object(request)).get("dir"), settings.drop_dir)
        done = await asyncio.to_thread(reconcile_apply.apply_dir, store, folder)
        return {"files": [o.__dict__ for o in done]}

    jobs: dict[str, backfill.Progress] = {}

    @app.post("/api/v1/backfill", status_code=202)
    async def backfill_start(request: Request) -> dict[str, Any]:
        with_role(request, auth.OPERATOR, "a backfill")
        body = await json_object(request)
        spec = BY_NAME.get(str(body.get("topic", "")))
        if spec is None or spec.compacted:  # reference topics are swapped by their files
            raise ParameterError("topic", "a batched event topic, e.g. ntjp.calls.v1")
        declared = replayable(ctx, spec.full(settings))
        if declared is None:
            raise ParameterError("topic", "a batched event topic, e.g. ntjp.calls.v1")
        from_time = None
        if body.get("from_time") not in (None, ""):
            if not isinstance(body["from_time"], str):
                raise ParameterError("from_time", "an RFC 3339 timestamp")
            try:
                from_time = dt.datetime.fromisoformat(body["from_time"])
            except ValueError:
                raise ParameterError("from_time", "an RFC 3339 timestamp") from None
            if from_time.tzinfo is None:
                raise ParameterError("from_time", "give an offset or Z")
        from_offset = body.get("from_offset")
        if from_offset is not None and (
            isinstance(from_offset, bool)  # JSON true is not an offset
            or not isinstance(from_offset, int)
            or not 0 <= from_offset < 2**63
        ):
            raise ParameterError("from_offset", "a whole number >= 0")
        source = body.get("source", "kafka")
        if source not in ("kafka", "raw"):
            raise ParameterError("source", "kafka (replay the topic) or raw (the raw table)")
        if source == "raw" and (from_offset is not None or from_time is not None):
            raise ParameterError("source", "raw rebuilds from the whole raw table; no from_*")
        # one backfill per topic in any process: its lease (streams/backfill.claim),
        # held before the answer, so of two requests at once one is refused here
        claimed = await asyncio.to_thread(backfill.claim, store, spec.full(settings))
        if claimed is None:
            raise ParameterError(
                "topic", "a backfill of this topic is already running; wait for it"
            )
        job = backfill.Progress(spec.full(settings))
        jobs[job.id] = job

        async def go() -> None:
            try:
                await backfill.run(
                    settings, store, job.topic, job, from_offset, from_time, source, declared,
                    claimed,
                )  # fmt: skip
            except Exception:  # noqa: BLE001 - the job records why; the API stays up
                log.exception("backfill failed", extra={"topic": job.topic})

        background.add(task := asyncio.create_task(go()))
        task.add_done_callback(background.discard)
        return job.to_json()

    @app.get("/api/v1/backfill/{job_id}")
    def backfill_status(job_id: str) -> dict[str, Any]:
        job = jobs.get(job_id)
        if job is None:
            raise UnknownReportError(f"no backfill {job_id[:20]!r}")
        return job.to_json()

    # Dead letters (operator role). The role is checked first, before any
    # parameter is read: a caller without it learns nothing from a 400.
    @app.get("/api/v1/dead-letters")
    def dead_letters_list(request: Request) -> dict[str, Any]:
        with_role(request, auth.OPERATOR, "browsing dead letters")
        return dlq.browse(store, settings, list(request.query_params.multi_items()))

    @app.get("/api/v1/dead-letters/stats")
    def dead_letters_stats(request: Request) -> dict[str, Any]:
        with_role(request, auth.OPERATOR, "dead-letter counts")
        return dlq.counts(store, settings, list(request.query_params.multi_items()))

    @app.get("/api/v1/dead-letters/replays")
    def dead_letters_replays(request: Request) -> dict[str, Any]:
        with_role(request, auth.OPERATOR, "the replay record")
        return dlq.replay_runs(store, list(request.query_params.multi_items()))

    @app.post("/api/v1/dead-letters/replay")
    async def dead_letters_replay(request: Request) -> dict[str, Any]:
        caller = with_role(request, auth.OPERATOR, "replaying dead letters")
        return await dlq.replay(store, settings, await json_object(request), caller.subject)

    @app.get("/api/v1/dead-letters/{topic}/{partition}/{offset}")
    async def dead_letter_detail(
        topic: str, partition: str, offset: str, request: Request
    ) -> dict[str, Any]:
        with_role(request, auth.OPERATOR, "a dead letter's message")
        found = await dlq.detail(store, settings, topic, partition, offset)
        if found is None:
            raise UnknownReportError("no dead letter at that topic, partition and offset")
        return found

    raw_tables = {spec.full(settings): table.table for spec, table, _ in EVENT_TOPICS}

    async def compute_live() -> dict[str, Any]:
        ends = await end_offsets(settings, sorted(raw_tables))
        return await asyncio.to_thread(live_view, store, raw_tables, ends)

    # one computation per second for every live page and scrape (web/cached.py)
    live_figures = Shared(compute_live, LIVE_MAX_AGE).get

    @app.get("/api/v1/live")
    async def live(request: Request) -> dict[str, Any]:
        # Operations staff only: it names the workers (host, pid), their
        # partitions and the dead letters' reasons.
        with_role(request, auth.OPERATOR, "the live view")
        return await live_figures()

    @app.get("/metrics")
    async def prometheus() -> PlainTextResponse:
        # this process's own counters, then the shared figures (ClickHouse, Kafka)
        try:
            shared = shared_metrics(await live_figures())
        except SinkError:
            shared = ""  # the store away: the process's own figures still answer
        return PlainTextResponse(metrics.render() + shared, media_type=metrics.CONTENT_TYPE)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        checks: dict[str, bool] = {}
        try:
            await asyncio.to_thread(store.query_rows, "SELECT 1")
            checks["clickhouse"] = True
        except SinkError:
            checks["clickhouse"] = False
        checks["redis"] = await ctx.cache.ping()
        ok = checks["clickhouse"]  # Redis is a cache: degraded, still ready
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    from web import pxweb

    pxweb.mount(app, store, settings)  # /api/pxweb/v2: the PxWeb API 2.0 style tables

    from web.app import mount_web

    mount_web(app)
    return app
