"""Settings: every field's variable is derived from its name, and the names
users already set stay (CONTRACT: extend, never rename)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings

# Every variable statflow has documented; a field renamed away from one of
# these would silently ignore a deployment's setting.
PUBLISHED = {
    "STATFLOW_BATCH_MAX_RECORDS", "STATFLOW_BATCH_TIMEOUT_MS", "STATFLOW_CLICKHOUSE_CLUSTER",
    "STATFLOW_CLICKHOUSE_DATABASE", "STATFLOW_CLICKHOUSE_DSN", "STATFLOW_CLICKHOUSE_HTTP_HOST",
    "STATFLOW_CLICKHOUSE_HTTP_MAX_MEMORY", "STATFLOW_CLICKHOUSE_HTTP_MAX_ROWS",
    "STATFLOW_CLICKHOUSE_HTTP_MAX_SECONDS", "STATFLOW_CLICKHOUSE_HTTP_PORT",
    "STATFLOW_CONSUMER_GROUP", "STATFLOW_DLQ_RETENTION_HOURS", "STATFLOW_DROP_DIR",
    "STATFLOW_DROP_POLL_SECONDS", "STATFLOW_EXPORT_TTL_SECONDS", "STATFLOW_FAULTS",
    "STATFLOW_HOME", "STATFLOW_HTTP_HOST", "STATFLOW_HTTP_PORT", "STATFLOW_JWT_SECRET",
    "STATFLOW_KAFKA_BOOTSTRAP", "STATFLOW_LOG_LEVEL", "STATFLOW_MAX_CELLS",
    "STATFLOW_MAX_MESSAGE_BYTES", "STATFLOW_MAX_PDF_CELLS", "STATFLOW_METRICS_PORT",
    "STATFLOW_OPEN_CARE_PROVIDERS", "STATFLOW_PSEUDONYM_SECRET", "STATFLOW_RATE_LIMIT_REQUESTS",
    "STATFLOW_RATE_LIMIT_WINDOW_SECONDS", "STATFLOW_RECONCILE_AT", "STATFLOW_REDIS_URL",
    "STATFLOW_REPORTS_DATABASE", "STATFLOW_TOPIC_PARTITIONS", "STATFLOW_TOPIC_PREFIX",
}  # fmt: skip


def test_every_published_variable_is_still_read() -> None:
    read = {Settings.env_name(f.name) for f in fields(Settings)}
    assert read >= PUBLISHED


def test_every_field_round_trips_through_the_environment() -> None:
    changed: dict[str, object] = {}
    for f in fields(Settings):
        if str(f.type) == "int":
            changed[f.name] = int(f.default) + 7  # type: ignore[arg-type]
        elif "Path" in str(f.type):
            changed[f.name] = Path(f"/tmp/x-{f.name}")
        else:
            changed[f.name] = f"v-{f.name}"
    s = Settings(**changed)  # type: ignore[arg-type]
    assert Settings.from_env(s.to_env()) == s


def test_unset_and_empty_keep_defaults_and_bad_numbers_say_which() -> None:
    assert Settings.from_env({}) == Settings()
    numbers = [f.name for f in fields(Settings) if str(f.type) in ("int", "Path")]
    got = Settings.from_env({Settings.env_name(n): "" for n in numbers})
    # "" turns the ClickHouse HTTP interface off; other numbers keep their default
    assert got == Settings(clickhouse_http_port=0)
    # a string set to "" is "" (e.g. STATFLOW_CLICKHOUSE_DSN="" = chDB)
    assert Settings.from_env({"STATFLOW_TOPIC_PREFIX": ""}).topic_prefix == ""
    with pytest.raises(ConfigError, match="STATFLOW_HTTP_PORT must be a whole number"):
        Settings.from_env({"STATFLOW_HTTP_PORT": "eighty"})
