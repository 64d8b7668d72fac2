"""The one settings object, read from STATFLOW_* environment variables.

Defaults run the embedded mode on localhost: chDB on disk under ./.statflow/,
Kafka on 9092, Redis on 6379.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import ConfigError


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    """A port where "" (like 0) turns the listener off."""
    raw = env.get(name)
    return default if raw is None else _int(env, name, 0)


@dataclass(frozen=True)
class Settings:
    home: Path = Path(".statflow")
    kafka_bootstrap: str = "localhost:9092"
    clickhouse_dsn: str = ""  # "" = chdb on disk under home/chdb
    clickhouse_database: str = "statflow"
    # A ClickHouse cluster name (remote_servers) to run the migrations ON CLUSTER
    # with Replicated engines (sinks/cluster.py); "" = a single node or chDB.
    clickhouse_cluster: str = ""
    redis_url: str = "redis://localhost:6379/0"
    drop_dir: Path | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    # `statflow worker` serves no API; with a port here it serves /metrics and
    # /healthz on it (Prometheus scrapes each worker). 0 = none. `run` and `api`
    # serve /metrics on the HTTP port.
    metrics_port: int = 0
    topic_prefix: str = ""  # tests give each run its own topics
    consumer_group: str = "statflow"
    batch_max_records: int = 20000
    batch_timeout_ms: int = 200
    topic_partitions: int = 4
    max_message_bytes: int = 64 * 1024
    log_level: str = "info"
    jwt_secret: str = ""  # "" = a random secret kept under home (development)
    pseudonym_secret: str = ""  # "" = a random secret kept under home (development)
    export_ttl_seconds: int = 7 * 24 * 3600
    # How long a dead-letter topic keeps a rejected message. It holds the
    # original bytes (personal data included) so a fixed producer can resend
    # them; set on the topic when statflow creates it, so the broker's default
    # (possibly "forever") never decides how long personal data stays.
    dlq_retention_hours: int = 7 * 24
    # Care providers whose organisation-level rows the open tier may show; "*" = all.
    open_care_providers: str = "*"
    # Nightly files: how often the worker looks into the drop directory, and
    # optionally the Stockholm times ("02:30,14:00") it applies them at; "" =
    # as soon as they arrive.
    drop_poll_seconds: int = 10
    reconcile_at: str = ""
    faults: str = ""  # named crash points, for fault tests only (core/faults.py)
    # ClickHouse's HTTP interface over the embedded store (web/chhttp), served
    # by the process that owns the chDB path; 0 = off. Host "" = http_host.
    clickhouse_http_port: int = 8123
    clickhouse_http_host: str = ""
    # Per query of a sql_reader token: rows in the answer and seconds of work.
    # Every query holds the store's lock, so a slow one delays ingest that long.
    clickhouse_http_max_rows: int = 1_000_000
    clickhouse_http_max_seconds: int = 10
    # ... and bytes of memory (max_memory_usage): one reader's query must not
    # starve the worker that shares the engine; 1 GiB by default.
    clickhouse_http_max_memory: int = 1 << 30
    # Views without personal identifiers for sql_reader tokens; "" =
    # <clickhouse_database>_reports (so test databases get their own).
    reports_database: str = ""
    # Bounds of one report answer (README "Limits"). Cells = rows x columns;
    # 150,000 like SCB's PxWeb. 0 = no limit.
    max_cells: int = 150_000
    # A PDF is for reading and costs seconds per thousand rows to lay out
    # (150,000 cells took 75 s): its own, lower bound. 0 = max_cells alone.
    max_pdf_cells: int = 10_000
    # Open (not logged-in) requests to /api/v1/ per client address and window,
    # counted in Redis so every `statflow api` process shares one count; like
    # PxWeb, 30 per 10 s. 0 requests = no limit.
    rate_limit_requests: int = 30
    rate_limit_window_seconds: int = 10
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def dsn(self) -> str:
        if self.clickhouse_dsn:
            return self.clickhouse_dsn
        return f"chdb://{(self.home / 'chdb').resolve()}"

    @property
    def clickhouse_http_bind(self) -> str:
        """Where the ClickHouse HTTP interface listens (its own host or the API's)."""
        return self.clickhouse_http_host or self.http_host

    @property
    def reports_db(self) -> str:
        return self.reports_database or f"{self.clickhouse_database}_reports"

    @property
    def embedded(self) -> bool:
        return self.dsn.startswith("chdb://")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The STATFLOW_* variables that reproduce these settings in a child process."""
        env = {
            "STATFLOW_HOME": str(self.home),
            "STATFLOW_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "STATFLOW_CLICKHOUSE_DSN": self.clickhouse_dsn,
            "STATFLOW_CLICKHOUSE_DATABASE": self.clickhouse_database,
            "STATFLOW_CLICKHOUSE_CLUSTER": self.clickhouse_cluster,
            "STATFLOW_REDIS_URL": self.redis_url,
            "STATFLOW_HTTP_HOST": self.http_host,
            "STATFLOW_HTTP_PORT": str(self.http_port),
            "STATFLOW_METRICS_PORT": str(self.metrics_port),
            "STATFLOW_TOPIC_PREFIX": self.topic_prefix,
            "STATFLOW_CONSUMER_GROUP": self.consumer_group,
            "STATFLOW_BATCH_MAX_RECORDS": str(self.batch_max_records),
            "STATFLOW_BATCH_TIMEOUT_MS": str(self.batch_timeout_ms),
            "STATFLOW_TOPIC_PARTITIONS": str(self.topic_partitions),
            "STATFLOW_MAX_MESSAGE_BYTES": str(self.max_message_bytes),
            "STATFLOW_LOG_LEVEL": self.log_level,
            "STATFLOW_JWT_SECRET": self.jwt_secret,
            "STATFLOW_PSEUDONYM_SECRET": self.pseudonym_secret,
            "STATFLOW_EXPORT_TTL_SECONDS": str(self.export_ttl_seconds),
            "STATFLOW_DLQ_RETENTION_HOURS": str(self.dlq_retention_hours),
            "STATFLOW_OPEN_CARE_PROVIDERS": self.open_care_providers,
            "STATFLOW_DROP_POLL_SECONDS": str(self.drop_poll_seconds),
            "STATFLOW_RECONCILE_AT": self.reconcile_at,
            "STATFLOW_FAULTS": self.faults,
            "STATFLOW_CLICKHOUSE_HTTP_PORT": str(self.clickhouse_http_port),
            "STATFLOW_CLICKHOUSE_HTTP_HOST": self.clickhouse_http_host,
            "STATFLOW_CLICKHOUSE_HTTP_MAX_ROWS": str(self.clickhouse_http_max_rows),
            "STATFLOW_CLICKHOUSE_HTTP_MAX_SECONDS": str(self.clickhouse_http_max_seconds),
            "STATFLOW_CLICKHOUSE_HTTP_MAX_MEMORY": str(self.clickhouse_http_max_memory),
            "STATFLOW_REPORTS_DATABASE": self.reports_database,
            "STATFLOW_MAX_CELLS": str(self.max_cells),
            "STATFLOW_MAX_PDF_CELLS": str(self.max_pdf_cells),
            "STATFLOW_RATE_LIMIT_REQUESTS": str(self.rate_limit_requests),
            "STATFLOW_RATE_LIMIT_WINDOW_SECONDS": str(self.rate_limit_window_seconds),
        }
        if self.drop_dir is not None:
            env["STATFLOW_DROP_DIR"] = str(self.drop_dir)
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        drop = env.get("STATFLOW_DROP_DIR")
        out = cls(
            home=Path(env.get("STATFLOW_HOME", ".statflow")),
            kafka_bootstrap=env.get("STATFLOW_KAFKA_BOOTSTRAP", "localhost:9092"),
            clickhouse_dsn=env.get("STATFLOW_CLICKHOUSE_DSN", ""),
            clickhouse_database=env.get("STATFLOW_CLICKHOUSE_DATABASE", "statflow"),
            clickhouse_cluster=env.get("STATFLOW_CLICKHOUSE_CLUSTER", ""),
            redis_url=env.get("STATFLOW_REDIS_URL", "redis://localhost:6379/0"),
            drop_dir=Path(drop) if drop else None,
            http_host=env.get("STATFLOW_HTTP_HOST", "127.0.0.1"),
            http_port=_int(env, "STATFLOW_HTTP_PORT", 8080),
            metrics_port=_int(env, "STATFLOW_METRICS_PORT", 0),
            topic_prefix=env.get("STATFLOW_TOPIC_PREFIX", ""),
            consumer_group=env.get("STATFLOW_CONSUMER_GROUP", "statflow"),
            batch_max_records=_int(env, "STATFLOW_BATCH_MAX_RECORDS", 20000),
            batch_timeout_ms=_int(env, "STATFLOW_BATCH_TIMEOUT_MS", 200),
            topic_partitions=_int(env, "STATFLOW_TOPIC_PARTITIONS", 4),
            max_message_bytes=_int(env, "STATFLOW_MAX_MESSAGE_BYTES", 64 * 1024),
            log_level=env.get("STATFLOW_LOG_LEVEL", "info"),
            jwt_secret=env.get("STATFLOW_JWT_SECRET", ""),
            pseudonym_secret=env.get("STATFLOW_PSEUDONYM_SECRET", ""),
            export_ttl_seconds=_int(env, "STATFLOW_EXPORT_TTL_SECONDS", 7 * 24 * 3600),
            dlq_retention_hours=_int(env, "STATFLOW_DLQ_RETENTION_HOURS", 7 * 24),
            open_care_providers=env.get("STATFLOW_OPEN_CARE_PROVIDERS", "*"),
            drop_poll_seconds=_int(env, "STATFLOW_DROP_POLL_SECONDS", 10),
            reconcile_at=env.get("STATFLOW_RECONCILE_AT", ""),
            faults=env.get("STATFLOW_FAULTS", ""),
            clickhouse_http_port=_port(env, "STATFLOW_CLICKHOUSE_HTTP_PORT", 8123),
            clickhouse_http_host=env.get("STATFLOW_CLICKHOUSE_HTTP_HOST", ""),
            clickhouse_http_max_rows=_int(env, "STATFLOW_CLICKHOUSE_HTTP_MAX_ROWS", 1_000_000),
            clickhouse_http_max_seconds=_int(env, "STATFLOW_CLICKHOUSE_HTTP_MAX_SECONDS", 10),
            clickhouse_http_max_memory=_int(env, "STATFLOW_CLICKHOUSE_HTTP_MAX_MEMORY", 1 << 30),
            reports_database=env.get("STATFLOW_REPORTS_DATABASE", ""),
            max_cells=_int(env, "STATFLOW_MAX_CELLS", 150_000),
            max_pdf_cells=_int(env, "STATFLOW_MAX_PDF_CELLS", 10_000),
            rate_limit_requests=_int(env, "STATFLOW_RATE_LIMIT_REQUESTS", 30),
            rate_limit_window_seconds=_int(env, "STATFLOW_RATE_LIMIT_WINDOW_SECONDS", 10),
        )
        if min(out.max_cells, out.max_pdf_cells, out.rate_limit_requests) < 0:
            raise ConfigError(
                "STATFLOW_MAX_CELLS, STATFLOW_MAX_PDF_CELLS and STATFLOW_RATE_LIMIT_REQUESTS: "
                "0 (off) or more"
            )
        if out.rate_limit_window_seconds < 1:
            raise ConfigError("STATFLOW_RATE_LIMIT_WINDOW_SECONDS must be 1 or more")
        return out
