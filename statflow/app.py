"""The Faust app: reference agents, the batched calls service, optionally the API.

`statflow run` (embedded) puts everything in one process because a chDB path
can be opened by one process only; `statflow worker` leaves the API out and,
with STATFLOW_METRICS_PORT, serves only /metrics and /healthz. A process that
owns the chDB path also serves ClickHouse's HTTP interface over it
(web/chhttp) when STATFLOW_CLICKHOUSE_HTTP_PORT is set.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from agents import events, reference
from core import faults
from reconcile import drops
from statflow.heap import freeze_startup_heap
from streams.context import Context

log = logging.getLogger("statflow.app")


def create_app(ctx: Context, *, serve_api: bool) -> faust.App:
    s = ctx.settings
    faults.arm(s.faults)
    app = faust.App(
        f"{s.consumer_group}-reference",
        broker=f"kafka://{s.kafka_bootstrap}",
        store="memory://",
        web_enabled=False,
        topic_replication_factor=1,
        topic_partitions=s.topic_partitions,
        consumer_auto_offset_reset="earliest",
        producer_max_request_size=4 * 1024 * 1024,
        loghandlers=[],
        # A SIGKILLed worker's membership lingers until the session times out,
        # and the group waits for it: Faust's default of 60 s is a minute of
        # staleness after every crash. 10 s unless set (core/settings.py).
        broker_session_timeout=s.kafka_session_timeout_ms / 1000,
        broker_heartbeat_interval=min(2.0, s.kafka_session_timeout_ms / 3000),
    )
    reference.register(app, ctx)
    events.register(app, ctx)
    drops.register(app, ctx)
    if serve_api:
        from web.api import create_api

        _serve_http(app, create_api(ctx), s.http_host, s.http_port, "report API")
    elif s.metrics_port:
        from web.metrics_http import metrics_app

        _serve_http(app, metrics_app(), s.http_host, s.metrics_port, "worker metrics")
    if ctx.store.embedded and s.clickhouse_http_port:
        _register_clickhouse_http(app, ctx)
    return app


def _register_clickhouse_http(app: faust.App, ctx: Context) -> None:
    from core.errors import ConfigError
    from web.chhttp.server import serve

    @app.task  # type: ignore[untyped-decorator]
    async def clickhouse_http() -> None:
        try:
            await serve(ctx.store, ctx.settings, hosted=True)
        except ConfigError as exc:
            # An extra for other tools; ingest and the report API go on without it.
            log.warning("ClickHouse HTTP interface not served", extra={"reason": str(exc)})


def _serve_http(app: faust.App, asgi: Any, host: str, port: int, what: str) -> None:
    import uvicorn

    @app.task  # type: ignore[untyped-decorator]
    async def http_server() -> None:
        config = uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="off")
        server: Any = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # Faust owns the signals
        log.info("%s listening", what, extra={"port": port})
        freeze_startup_heap()
        await server.serve()
