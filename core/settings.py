"""The one settings object, read from STATFLOW_* environment variables.

Defaults run the embedded mode on localhost: chDB on disk under ./.statflow/,
Kafka on 9092, Redis on 6379.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
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
    # Kafka's session timeout of the ingest and Faust consumers: how long a
    # SIGKILLed worker's partitions wait before the group moves them. Not below
    # the broker's group.min.session.timeout.ms (6 s by default). The tests use
    # 6 s: every crash they stage waits this out.
    kafka_session_timeout_ms: int = 10_000
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
    # Values an enum field of a topic accepts beyond its released contract, for
    # this deployment (schemas/extensions.py): "ntjp.calls.v1:operation=X|Y,...".
    contract_extensions: str = ""
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

    @staticmethod
    def env_name(name: str) -> str:
        """The variable of a field: `STATFLOW_` + its name in capitals."""
        return "STATFLOW_" + name.upper()

    def to_env(self) -> dict[str, str]:
        """The STATFLOW_* variables that reproduce these settings in a child process."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:  # an unset optional path is no variable
                env[self.env_name(f.name)] = str(value)
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Every field from its variable (`env_name`); an unset or empty one
        keeps the default, except where empty means "off" (_OFF_WHEN_EMPTY)."""
        env = os.environ if env is None else env
        given: dict[str, object] = {}
        for f in fields(cls):
            name = cls.env_name(f.name)
            if name not in env:
                continue
            raw = env[name]
            kind = str(f.type)
            if kind == "int":
                given[f.name] = (
                    0 if raw == "" and f.name in _OFF_WHEN_EMPTY else _int(env, name, f.default)  # type: ignore[arg-type]
                )
            elif kind == "Path":
                given[f.name] = Path(raw) if raw else f.default
            elif kind == "Path | None":
                given[f.name] = Path(raw) if raw else None
            else:
                given[f.name] = raw
        out = cls(**given)  # type: ignore[arg-type]
        if min(out.max_cells, out.max_pdf_cells, out.rate_limit_requests) < 0:
            raise ConfigError(
                "STATFLOW_MAX_CELLS, STATFLOW_MAX_PDF_CELLS and STATFLOW_RATE_LIMIT_REQUESTS: "
                "0 (off) or more"
            )
        if out.rate_limit_window_seconds < 1:
            raise ConfigError("STATFLOW_RATE_LIMIT_WINDOW_SECONDS must be 1 or more")
        return out


# Ports whose listener an empty variable turns off (as 0 does).
_OFF_WHEN_EMPTY = frozenset({"clickhouse_http_port"})
