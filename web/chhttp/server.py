"""The HTTP wiring: a small Starlette app on its own port, and `statflow store`.

`/` takes queries (GET or POST, as ClickHouse's HTTP interface does), `/ping`
answers `Ok.` and `/healthz` answers for process supervisors. Statements run
in a worker thread (chDB releases the GIL; the event loop of `statflow run`
keeps ingesting meanwhile). Errors are ClickHouse's shape: the status its
handler would give, `X-ClickHouse-Exception-Code`, and a body starting
`Code: N. DB::Exception:`, so clients raise their usual exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from core import auth
from core.errors import AccessDenied, ClickHouseHTTPError, ConfigError
from core.settings import Settings
from sinks.clickhouse import ClickHouseStore
from web.chhttp import request as chreq
from web.chhttp.engine import Answer, Engine

log = logging.getLogger("statflow.chhttp")
MAX_BODY_BYTES = 256 * 1024 * 1024  # one request; a statflow batch insert is a few MB
_NO_TOKEN = (
    "statflow's store takes a token as the password (basic auth, X-ClickHouse-Key or "
    "password=); an operator makes one with `statflow token --role sql_reader` "
    "(or --role service for statflow workers)"
)


def create_app(engine: Engine, secret: str) -> Starlette:
    async def root(request: Request) -> Response:
        try:
            body = await _body(request)
        except ClickHouseHTTPError as exc:
            return error_response(exc, engine.version)
        if request.method == "GET" and not request.query_params.get("query") and not body:
            return PlainTextResponse("Ok.\n")  # ClickHouse's answer to a bare GET /
        params = list(request.query_params.multi_items())
        headers = {k.lower(): v for k, v in request.headers.items()}
        return await run_in_threadpool(
            answer, engine, secret, request.method, params, headers, body
        )

    async def ping(_: Request) -> Response:
        return PlainTextResponse("Ok.\n")

    async def healthz(_: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def not_found(request: Request, _: Exception) -> Response:
        return PlainTextResponse(
            f"There is no handle {request.url.path}\n\nUse / or /ping for health checks.\n"
            "Send queries with POST / (the query in the body) or GET /?query=...\n",
            status_code=404,
        )

    return Starlette(
        routes=[
            Route("/", root, methods=["GET", "POST"]),
            Route("/ping", ping, methods=["GET", "HEAD"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        exception_handlers={404: not_found},
    )


async def _body(request: Request) -> bytes:
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_BODY_BYTES:
        raise_too_large()
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise_too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def raise_too_large() -> None:
    raise ClickHouseHTTPError(
        229, "QUERY_IS_TOO_LARGE",
        f"the request body is over {MAX_BODY_BYTES // 2**20} MiB: insert in smaller batches",
        413,
    )  # fmt: skip


def answer(
    engine: Engine,
    secret: str,
    method: str,
    params: list[tuple[str, str]],
    headers: dict[str, str],
    body: bytes,
) -> Response:
    """One request, start to end (in a worker thread)."""
    query_id = dict(params).get("query_id", "")
    role, subject = "-", "-"
    try:
        req = chreq.parse(method, params, headers, body)
        query_id = req.query_id
        grant = authenticate(engine, secret, req)
        role, subject = grant.role, grant.subject
        return _success(engine, req, engine.run(grant, req))
    except ClickHouseHTTPError as exc:
        # Codes and roles only: a message can quote the query, and a query can
        # carry a personal identity number.
        log.info("ClickHouse HTTP request refused or failed",
                 extra={"code": exc.code, "error": exc.name, "role": role, "subject": subject})  # fmt: skip
        return error_response(exc, engine.version, query_id)
    except Exception:
        log.exception("ClickHouse HTTP request failed", extra={"role": role})
        internal = ClickHouseHTTPError(1002, "UNKNOWN_EXCEPTION", "internal error (see the log)")
        return error_response(internal, engine.version, query_id)


def authenticate(engine: Engine, secret: str, req: chreq.ChRequest) -> Any:
    if not req.token:
        raise ClickHouseHTTPError(194, "REQUIRED_PASSWORD", f"{req.user[:64]}: {_NO_TOKEN}", 401)
    try:
        caller = auth.verify(req.token, secret)
    except AccessDenied as exc:
        raise ClickHouseHTTPError(
            516, "AUTHENTICATION_FAILED", f"{req.user[:64]}: Authentication failed: {exc}", 401
        ) from None
    return engine.grant(caller.subject, caller.roles)


def _success(engine: Engine, req: chreq.ChRequest, ans: Answer) -> Response:
    encoding = chreq.response_encoding(req.accept_encoding, ans.compress)
    headers = {
        "X-ClickHouse-Query-Id": req.query_id,
        "X-ClickHouse-Summary": json.dumps(ans.summary, separators=(",", ":")),
        "X-ClickHouse-Timezone": ans.timezone,
        "X-ClickHouse-Server-Display-Name": "statflow",
    }
    if ans.format is not None:
        headers["X-ClickHouse-Format"] = ans.format
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    return Response(
        chreq.encode_body(ans.body, encoding),
        headers=headers,
        media_type=content_type(ans.format),
    )


def error_response(exc: ClickHouseHTTPError, version: str, query_id: str = "") -> Response:
    message = str(exc).rstrip(". ")
    text = f"Code: {exc.code}. DB::Exception: {message}. ({exc.name}) (version {version})\n"
    headers = {"X-ClickHouse-Exception-Code": str(exc.code)}
    if query_id:
        headers["X-ClickHouse-Query-Id"] = query_id
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="statflow ClickHouse HTTP interface"'
    return PlainTextResponse(text, status_code=exc.status, headers=headers)


def content_type(fmt: str | None) -> str:
    name = (fmt or "").lower()
    if name.startswith("json"):
        return "application/json; charset=UTF-8"
    if name.startswith(("tabseparated", "tsv")):
        return "text/tab-separated-values; charset=UTF-8"
    if name.startswith("csv"):
        return "text/csv; charset=UTF-8; header=absent"
    if name.startswith(("native", "rowbinary", "parquet", "arrow", "orc", "avro", "msgpack")):
        return "application/octet-stream"
    return "text/plain; charset=UTF-8"


class _HostedServer(uvicorn.Server):
    """Inside `statflow run` the Faust worker owns the process's signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listen(settings: Settings) -> socket.socket:
    host = settings.clickhouse_http_bind
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so,
    # and without it every keep-alive answer waits out a 40 ms delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, settings.clickhouse_http_port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{settings.clickhouse_http_port} for ClickHouse's HTTP "
            f"interface ({exc.strerror}): set STATFLOW_CLICKHOUSE_HTTP_PORT to a free port, "
            "or 0 to turn it off"
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(store: ClickHouseStore, settings: Settings, *, hosted: bool) -> None:
    """Serve until cancelled (hosted: a task of `statflow run`) or signalled."""
    engine = Engine(store, settings)
    sock = listen(settings)
    config = uvicorn.Config(
        create_app(engine, auth.load_secret(settings)),
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = _HostedServer(config) if hosted else uvicorn.Server(config)
    host, port = sock.getsockname()[:2]
    log.info("ClickHouse HTTP interface listening", extra={"host": host, "port": port})
    await server.serve(sockets=[sock])


def run_store(settings: Settings) -> int:
    """`statflow store`: own the chDB path, migrate it, and serve it over
    ClickHouse's HTTP interface only (no agents, no report API), so workers and
    APIs in other processes reach it with STATFLOW_CLICKHOUSE_DSN=http://…"""
    from core import logs
    from sinks.migrate import migrate

    logs.setup(settings.log_level)
    if not settings.embedded:
        raise ConfigError(
            "`statflow store` serves the embedded chDB store; STATFLOW_CLICKHOUSE_DSN names "
            "a ClickHouse server already, so point clients at that"
        )
    if not settings.clickhouse_http_port:
        raise ConfigError("`statflow store` needs STATFLOW_CLICKHOUSE_HTTP_PORT (e.g. 8123)")
    store = ClickHouseStore(settings)
    try:
        migrate(store)
        host = settings.clickhouse_http_bind
        print(
            f"statflow: ClickHouse HTTP interface at http://{host}:{settings.clickhouse_http_port}/"
            f" (database {store.database}, reports {store.reports_database})",
            flush=True,
        )
        asyncio.run(serve(store, settings, hosted=False))
    finally:
        store.close()
    return 0
