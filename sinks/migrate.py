"""Versioned DDL migrations: sinks/migrations/NNNN_name.sql, applied in order.

Every statement is idempotent (IF NOT EXISTS), so a crash half-way through a
migration is healed by running it again; a version is recorded only after all
its statements succeeded. Against a cluster (STATFLOW_CLICKHOUSE_CLUSTER) the
same files are rendered ON CLUSTER with Replicated engines (sinks/cluster.py);
otherwise they run exactly as written.

A version may derive data for a table it adds from rows stored before it
(`fill/NNNN_name.sql`, INSERT ... SELECT run after the version's DDL). Only a
database that already had a version applied before this run can hold such
rows; one migrated from scratch (a new install, a backfill's shadow) has
nothing to derive, so its fills are skipped. Each fill guards itself (it
inserts only into an empty table) and carries a fixed deduplication token, so
a re-run after a crash, or a second process migrating at once, inserts it once.

Statements name other databases through `${database}` (the store's) and
`${reports_database}` (its views for report writers), replaced when they run:
both come from settings, so a test or backfill database gets its own.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from core.errors import MigrationError
from sinks import cluster
from sinks.clickhouse import ClickHouseStore
from sinks.ddl import Migration

MIGRATIONS = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
BOOKKEEPING = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
    "ENGINE = MergeTree ORDER BY version"
)


def split_statements(sql: str) -> tuple[str, ...]:
    """Split on ';' at line end; our DDL has no ';' inside literals."""
    lines = [ln for ln in sql.splitlines() if not ln.strip().startswith("--")]
    parts = re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE)
    return tuple(p.strip() for p in parts if p.strip())


def load(folder: Path = MIGRATIONS) -> list[Migration]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(
            Migration(int(m.group(1)), m.group(2), split_statements(path.read_text("utf-8")))
        )
    fills = {
        p.name: split_statements(p.read_text("utf-8")) for p in (folder / "fill").glob("*.sql")
    }
    orphans = fills.keys() - {f"{m.version:04d}_{m.name}.sql" for m in found}
    if orphans:
        raise MigrationError(f"fill/{min(orphans)} has no migration of the same name")
    found = [replace(m, fill=fills.get(f"{m.version:04d}_{m.name}.sql", ())) for m in found]
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version number in {folder}")
    return found


def with_databases(migrations: list[Migration], database: str, reports: str) -> list[Migration]:
    """The `${database}` and `${reports_database}` placeholders filled in, pure."""

    def named(stmt: str) -> str:
        return stmt.replace("${database}", database).replace("${reports_database}", reports)

    return [
        replace(m, statements=tuple(map(named, m.statements)), fill=tuple(map(named, m.fill)))
        for m in migrations
    ]


def for_store(store: ClickHouseStore, folder: Path = MIGRATIONS) -> list[Migration]:
    """The migrations as this store runs them (cluster-rendered or as written)."""
    filled = with_databases(load(folder), store.database, store.reports_database)
    return cluster.render(filled, store.cluster, store.database)


def bookkeeping(store: ClickHouseStore) -> list[str]:
    # Replicated on a cluster too, so every replica agrees on what is applied;
    # no Distributed companion: nobody reads it across shards.
    if not store.cluster:
        return [BOOKKEEPING]
    return cluster.render_statement(BOOKKEEPING, store.cluster, store.database)


def migrate(store: ClickHouseStore, folder: Path = MIGRATIONS) -> list[int]:
    """Apply what is missing; return the versions applied now."""
    for stmt in bookkeeping(store):
        store.command(stmt)
    done = {int(r[0]) for r in store.query_rows("SELECT version FROM schema_migrations")}
    known = for_store(store, folder)
    newest = max((m.version for m in known), default=0)
    if done and max(done) > newest:
        raise MigrationError(
            f"the database has schema version {max(done)} but this statflow knows only "
            f"up to {newest}: upgrade statflow before running it against this database"
        )
    applied = []
    for mig in known:
        if mig.version in done:
            continue
        for stmt in mig.statements:
            store.command(stmt)
        for i, stmt in enumerate(mig.fill if done else ()):
            store.command(stmt, settings={"insert_deduplication_token": f"fill {mig.version} {i}"})
        store.insert_columns("schema_migrations", {"version": [mig.version], "name": [mig.name]})
        applied.append(mig.version)
    return applied
