"""The PxWeb API 2.0 style open table API (issue 22), under /api/pxweb/v2.

Thin handlers: the tables, categories, selections and bodies are
reports/pxweb/, every answer is the report engine's under the open tier (a
bearer token changes nothing here), and the per-address rate limit is the
report API's middleware (every path under /api/). Errors are problem details
(RFC 7807, `application/problem+json`, as PxWebApi 2.0 and its clients
expect) and never quote stored data; nothing a caller sends yields a 5xx.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from redis.exceptions import RedisError

from core.errors import AccessDenied, AnswerTooLarge, ParameterError, SinkError, UnknownReportError
from core.settings import Settings
from reports import engine
from reports.labels import Lang
from reports.presentation import as_lang
from reports.pxweb import bodies, files, run, saved, tables
from reports.pxweb.saved import Store
from reports.pxweb.selection import Selection, from_body, from_query

PREFIX = "/api/pxweb/v2"
MAX_BODY_BYTES = 1 << 20
# Parameters PxWebApi 2.0 defines for these paths (any case, as clients send
# either); anything else is a 400, so a typo is not silently ignored.
KNOWN = {
    "lang", "query", "pastdays", "includediscontinued", "pagenumber", "pagesize",
    "outputformat", "outputformatparams", "defaultselection", "heading", "stub",
}  # fmt: skip
T = TypeVar("T")


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(bodies.problem(status, title, detail), status_code=status,
                        media_type="application/problem+json")  # fmt: skip


def problems(fn: Callable[..., Response]) -> Callable[..., Response]:
    """The errors of the report layer as PxWeb's problem details."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        try:
            return fn(*args, **kwargs)
        except (ParameterError, AnswerTooLarge) as exc:
            return _problem(400, "Bad request", str(exc))
        except UnknownReportError as exc:
            return _problem(404, "Not found", str(exc))
        except AccessDenied as exc:
            return _problem(exc.status, "Forbidden", str(exc))
        except SinkError:
            return _problem(503, "Unavailable", "the statistics store is not answering; "
                            "try again shortly")  # fmt: skip

    return wrapped


def _params(request: Request) -> tuple[Selection, dict[str, str]]:
    """The selection in the query string and the other parameters by lower-case
    name, each given once."""
    selection, rest = from_query(request.query_params.multi_items())
    out: dict[str, str] = {}
    for key, value in rest:
        name = key.lower()
        if name not in KNOWN:
            raise ParameterError(
                key[:64], f"not a parameter of this API ({', '.join(sorted(KNOWN))})"
            )
        if name in out:
            raise ParameterError(key[:64], "give it once")
        out[name] = value
    return selection, out


def _lang(params: dict[str, str]) -> Lang:
    lang = params.get("lang", "sv").lower()
    if lang not in ("sv", "en"):
        raise ParameterError("lang", "one of sv, en")
    return as_lang(lang)


def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name.lower())
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ParameterError(name, f"a whole number from {low} to {high}")
    return int(raw)


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    """The routes on the app itself (an included APIRouter is a lazy
    `_IncludedRouter` in this FastAPI, invisible to `app.routes`)."""
    bounds = run.Bounds(settings.open_care_providers, settings.max_cells)
    saved_store = saved.SavedQueries(store)
    categories = RedisCategories(settings)

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/") + PREFIX

    @app.get(PREFIX + "/config")
    @problems
    def config(request: Request) -> Response:
        _params(request)
        return JSONResponse(bodies.config(settings.max_cells, settings.rate_limit_requests,
                                          settings.rate_limit_window_seconds))  # fmt: skip

    def entry(table: tables.Table, lang: Lang, request: Request,
              updated: dt.datetime | None) -> dict[str, Any]:  # fmt: skip
        periods = tables.time_codes(table.report, engine.today_in_stockholm())
        return bodies.table_entry(table, lang, updated, periods, base(request))

    @app.get(PREFIX + "/tables")
    @problems
    def list_tables(request: Request) -> Response:
        _, params = _params(request)
        lang = _lang(params)
        page = _int(params, "pageNumber", 1, 1, 1_000_000)
        size = _int(params, "pageSize", bodies.DEFAULT_PAGE_SIZE, 1, bodies.MAX_PAGE_SIZE)
        past = _int(params, "pastDays", 0, 0, 100_000)
        updated = engine.data_as_of(store)
        entries = [entry(t, lang, request, updated) for t in tables.all_tables()]
        query = params.get("query", "")
        if len(query) > 256:
            raise ParameterError("query", "at most 256 characters")
        if query:
            entries = [e for e in entries if bodies.matches(e, query)]
        if past and (updated is None or dt.datetime.now(dt.UTC) - updated > dt.timedelta(past)):
            entries = []
        return JSONResponse(bodies.table_list(entries, lang, page, size, base(request)))

    @app.get(PREFIX + "/tables/{table_id}")
    @problems
    def one_table(table_id: str, request: Request) -> Response:
        _, params = _params(request)
        table = tables.find(table_id)
        return JSONResponse(entry(table, _lang(params), request, engine.data_as_of(store)))

    @app.get(PREFIX + "/tables/{table_id}/metadata")
    @problems
    def metadata(table_id: str, request: Request) -> Response:
        _, params = _params(request)
        table = tables.find(table_id)
        lang = _lang(params)
        if params.get("outputformat", "json-stat2").lower() not in ("json-stat2", "jsonstat2"):
            raise ParameterError("outputFormat", "metadata is answered as json-stat2")
        today = engine.today_in_stockholm()
        dims, updated = run.dimensions(table, store, bounds, today, lang, categories)
        return JSONResponse(bodies.metadata(table, dims, lang, updated, base(request),
                                            table.report.data_start))  # fmt: skip

    def data(table_id: str, selection: Selection, params: dict[str, str]) -> Response:
        table = tables.find(table_id)
        lang = _lang(params)
        fmt = files.output_format(params.get("outputformat"))
        options = files.format_params(params.get("outputformatparams"))
        today = engine.today_in_stockholm()
        cube = run.answer(table, selection, store, bounds, today, lang, categories)
        if fmt == "json-stat2":
            return JSONResponse(bodies.dataset(cube, lang), media_type=files.MEDIA[fmt])
        body = files.render(cube, lang, fmt, options, dt.datetime.now(dt.UTC))
        name = f"{table.id}.{files.EXTENSION[fmt]}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if fmt == "csv" and cube.notes:
            # CSV has no place for notes: they travel in a header, as in the report API
            headers["X-Statflow-Notes"] = json.dumps(bodies.notes(cube, lang), ensure_ascii=True)
        return Response(body, media_type=files.MEDIA[fmt], headers=headers)

    @app.get(PREFIX + "/tables/{table_id}/data")
    @problems
    def data_get(table_id: str, request: Request) -> Response:
        selection, params = _params(request)
        return data(table_id, selection, params)

    async def body_of(request: Request) -> Any:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise ParameterError("body", f"at most {MAX_BODY_BYTES} bytes of JSON")
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise ParameterError("body", 'expected a JSON object {"selection": [...]}') from None

    @app.post(PREFIX + "/tables/{table_id}/data")
    async def data_post(table_id: str, request: Request) -> Response:
        try:
            body = await body_of(request)
        except ParameterError as exc:
            return _problem(400, "Bad request", str(exc))
        return await _threaded(post_data, table_id, request, body)

    @problems
    def post_data(table_id: str, request: Request, body: Any) -> Response:
        selection, params = _params(request)
        if selection.values:
            raise ParameterError("valueCodes", "give the selection in the body or the query, "
                                 "not both")  # fmt: skip
        return data(table_id, from_body(body), params)

    @app.get(PREFIX + "/codelists/{codelist_id}")
    @problems
    def codelist(codelist_id: str, request: Request) -> Response:
        _, params = _params(request)
        if codelist_id not in {cid for cid, _ in bodies.CODELISTS.values()}:
            raise UnknownReportError("no such code list; vs_Lan, vs_Vardgivare or vs_Enhet")
        values = run.codelist_values(codelist_id, store, bounds)
        return JSONResponse(bodies.codelist(codelist_id, _lang(params), values))

    # --- saved queries ------------------------------------------------------

    @app.post(PREFIX + "/savedqueries", status_code=201)
    async def save_query(request: Request) -> Response:
        try:
            body = await body_of(request)
        except ParameterError as exc:
            return _problem(400, "Bad request", str(exc))
        return await _threaded(save, request, body)

    @problems
    def save(request: Request, body: Any) -> Response:
        _params(request)
        query = saved.parse(body)
        tables.find(query.table_id)  # an unknown table is a 404 before anything is stored
        stored = saved_store.save(query)
        return JSONResponse(saved.to_json(stored, base(request)), status_code=201)

    @app.get(PREFIX + "/savedqueries/{query_id}")
    @problems
    def get_saved(query_id: str, request: Request) -> Response:
        _params(request)
        return JSONResponse(saved.to_json(saved_store.get(query_id), base(request)))

    @app.get(PREFIX + "/savedqueries/{query_id}/data")
    @problems
    def saved_data(query_id: str, request: Request) -> Response:
        selection, params = _params(request)
        if selection.values:
            raise ParameterError("valueCodes", "a saved query's selection is stored with it")
        query = saved_store.get(query_id)
        params = {"outputformat": query.output_format, **params}
        return data(query.table_id, query.selection, params)


CATEGORY_SECONDS = 60  # how long a table's categories are reused (a new unit waits this long)


class RedisCategories:
    """run.Cache in Redis: every API process shares it, and it expires on its
    own. Redis not answering is a miss (the categories are computed again)."""

    def __init__(self, settings: Settings) -> None:
        self._redis = redis.Redis.from_url(
            settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._prefix = f"statflow:{settings.clickhouse_database}:pxweb:categories:"

    def get(self, key: str) -> bytes | None:
        try:
            found = self._redis.get(self._prefix + key)
        except (RedisError, OSError):
            return None
        return found if isinstance(found, bytes) else None

    def set(self, key: str, value: bytes) -> None:
        # a cache: if Redis is away, the next request computes them again
        with contextlib.suppress(RedisError, OSError):
            self._redis.set(self._prefix + key, value, ex=CATEGORY_SECONDS)


async def _threaded(fn: Callable[..., T], *args: Any) -> T:
    """A blocking handler (the engine, chDB) off the event loop, as FastAPI
    runs the `def` routes."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)
