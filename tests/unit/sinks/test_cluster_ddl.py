"""Cluster rendering of the migrations (sinks/cluster.py): single-node and chDB
DDL is exactly the files' text; cluster DDL puts every statement ON CLUSTER,
replicates every table and adds Distributed tables for reads."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError, MigrationError
from core.settings import Settings
from sinks import cluster, ddl, migrate
from sinks.clickhouse import ClickHouseStore

C, DB, REPORTS = "statflow-prod", "stats", "stats_reports"
ON = "ON CLUSTER 'statflow-prod'"
PATH = "'/clickhouse/tables/{uuid}/{shard}', '{replica}'"
# a table rebuilt with another engine (CREATE OR REPLACE) counts as its last declaration
CREATE_TABLE = re.compile(r"^CREATE (?:OR REPLACE )?TABLE (?:IF NOT EXISTS )?(\w+)\s")


class FakeStore:
    """What migrate() needs of a store, recording the DDL it is sent."""

    def __init__(self, cluster_name: str = "") -> None:
        self.cluster, self.database, self.reports_database = cluster_name, DB, REPORTS
        self.commands: list[str] = []

    def command(self, sql: str, *_: Any, **__: Any) -> None:
        self.commands.append(sql)

    def query_rows(self, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        return []

    def insert_columns(self, *_: Any, **__: Any) -> None:
        pass


def rendered() -> list[str]:
    return [s for m in cluster.render(filled(), C, DB) for s in m.statements]


def filled() -> list[ddl.Migration]:
    """The migration files with their database placeholders filled in."""
    return migrate.with_databases(migrate.load(), DB, REPORTS)


def engines_in_files() -> dict[str, str]:
    """table -> engine, as the migration files declare them."""
    out = {}
    for m in migrate.load():
        for stmt in m.statements:
            t = CREATE_TABLE.match(stmt)
            if t:
                out[t.group(1)] = re.search(r"ENGINE = (\w+)", stmt).group(1)  # type: ignore[union-attr]
    assert len(out) > 20 and "EmbeddedRocksDB" in out.values()
    return out


def test_single_node_and_embedded_run_the_files_byte_for_byte() -> None:
    files = sorted(migrate.MIGRATIONS.glob("*.sql"))
    as_written = [
        s.replace("${database}", DB).replace("${reports_database}", REPORTS)
        for f in files
        for s in migrate.split_statements(f.read_text("utf-8"))
    ]
    assert cluster.render(filled(), "", DB) == filled()
    store = FakeStore()
    migrate.migrate(store)  # type: ignore[arg-type]
    assert store.commands == [migrate.BOOKKEEPING, *as_written]
    assert not any("ON CLUSTER" in c or "Replicated" in c for c in store.commands)


def test_every_create_table_is_on_cluster_and_replicated_or_distributed() -> None:
    creates = [s for s in rendered() if s.startswith("CREATE TABLE")]
    assert len(creates) > 2 * 10
    for stmt in creates:
        name = CREATE_TABLE.match(stmt).group(1)  # type: ignore[union-attr]
        assert stmt.startswith(f"CREATE TABLE IF NOT EXISTS {name} {ON}"), stmt[:80]
        if name.endswith("_all"):
            local = name.removesuffix("_all")
            assert stmt.endswith(f"AS {local} ENGINE = Distributed('{C}', '{DB}', '{local}')")
        else:
            assert re.search(rf"ENGINE = Replicated\w*MergeTree\({re.escape(PATH)}", stmt), stmt
    assert not any("non_replicated" in s or "EmbeddedRocksDB" in s for s in rendered())


def test_each_engine_becomes_its_replicated_counterpart() -> None:
    out = {CREATE_TABLE.match(s).group(1): s for s in rendered() if CREATE_TABLE.match(s)}  # type: ignore[union-attr]
    for table, engine in engines_in_files().items():
        stmt = out[table]
        if engine == "EmbeddedRocksDB":  # the seen stores: replicated, keyed, no reads table
            assert f"ENGINE = ReplicatedReplacingMergeTree({PATH})\nORDER BY event_id" in stmt
            assert "PRIMARY KEY" not in stmt and f"{table}_all" not in out
        else:
            assert f"ENGINE = Replicated{engine}({PATH}" in stmt
            assert f"{table}_all" in out, f"{table} has no Distributed table for reads"
    assert "ReplicatedReplacingMergeTree(" + PATH + ", version)" in out["hsa_units"]
    assert "ReplicatedReplacingMergeTree(" + PATH + ", next_offset)" in out["ingest_checkpoints"]
    assert "SETTINGS replicated_deduplication_window = 10000" in out["ntjp_calls"]


def test_views_and_alters_run_on_cluster_and_alters_follow_the_reads_table() -> None:
    stmts = rendered()
    views = [s for s in stmts if re.match(r"CREATE (MATERIALIZED )?VIEW", s)]
    assert len(views) == sum(
        1 for m in filled() for s in m.statements if re.match(r"CREATE (MATERIALIZED )?VIEW", s)
    )
    for v in views:
        assert re.match(
            rf"CREATE (MATERIALIZED )?VIEW IF NOT EXISTS [\w.]+ {ON}( TO \w+)? AS\n", v
        ), v
    alters = [s for s in stmts if s.startswith("ALTER")]
    for t in ("ntjp_calls", "sob_transactions", "etj_cases", "etj_logins"):
        body = "ADD COLUMN IF NOT EXISTS batch_token String DEFAULT ''"
        assert f"ALTER TABLE {t} {ON} {body}" in alters
        assert f"ALTER TABLE {t}_all {ON} {body}" in alters
    # every DDL statement is for the whole cluster; a migration's INSERT ...
    # SELECT (filling a new table) runs once and replicates
    assert all(ON in s for s in stmts if not s.startswith("INSERT"))
    assert any(s.startswith("INSERT") for s in stmts)


def test_statement_count_is_the_files_plus_reads_tables_and_their_alters() -> None:
    files = [s for m in filled() for s in m.statements]
    replicated = [t for t, e in engines_in_files().items() if e != "EmbeddedRocksDB"]
    mirrored_alters = 4 + 2  # batch_token on the four raw tables; audit_log's scope (0017)
    assert len(rendered()) == len(files) + len(replicated) + mirrored_alters
    assert [m.version for m in cluster.render(filled(), C, DB)] == [
        m.version for m in migrate.load()
    ]


_PARSE = r"""
import json, sys
import chdb.session
s = chdb.session.Session()
out = []
for stmt in json.load(sys.stdin):
    lit = stmt.replace("\\", "\\\\").replace("'", "\\'")
    out.append(str(s.query(f"SELECT formatQuerySingleLine('{lit}')", "TSVRaw")).strip())
s.close()
json.dump(out, sys.stdout)
"""


def test_every_rendered_statement_parses_with_clickhouses_own_parser() -> None:
    """chDB is ClickHouse's engine: formatQuery parses without executing (chDB
    has no cluster or Keeper to run it), so syntax and clause order are real.
    In a child process: chDB allows one data path per process, and other tests
    in this one may hold theirs."""
    stmts = rendered()
    child = subprocess.run(
        [sys.executable, "-c", _PARSE], input=json.dumps(stmts), capture_output=True,
        text=True, timeout=120, check=True,
    )  # fmt: skip
    formatted = json.loads(child.stdout)
    assert len(formatted) == len(stmts)
    for f in formatted:
        assert "ON CLUSTER `statflow-prod`" in f or f.startswith("INSERT"), f
    assert (
        sum(
            "ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}'" in f
            for f in formatted
        )
        >= 5
    )


def test_cluster_migrate_renders_its_bookkeeping_too() -> None:
    store = FakeStore(C)
    migrate.migrate(store)  # type: ignore[arg-type]
    first = store.commands[0]
    assert first.startswith(f"CREATE TABLE IF NOT EXISTS schema_migrations {ON} ")
    assert f"ENGINE = ReplicatedMergeTree({PATH})" in first
    assert not any("schema_migrations_all" in c for c in store.commands)
    assert store.commands[1:] == rendered()


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE IF NOT EXISTS p (v String) ENGINE = Memory",
        "CREATE TABLE IF NOT EXISTS k (k String, v String) ENGINE = KeeperMap('/k') PRIMARY KEY k",
        "CREATE OR REPLACE VIEW v AS SELECT 1",
        "CREATE TABLE t (a UInt8)",
        "ALTER TABLE ntjp_calls ADD COLUMN x UInt8, ADD INDEX ix x TYPE minmax GRANULARITY 1",
    ],
)
def test_what_has_no_cluster_rendering_is_refused(sql: str) -> None:
    with pytest.raises(MigrationError):
        cluster.render_statement(sql, C, DB, {"ntjp_calls"})


def test_other_statements_and_forms() -> None:
    r = cluster.render_statement
    assert r("INSERT INTO t SELECT 1", C, DB) == ["INSERT INTO t SELECT 1"]
    assert r("EXCHANGE TABLES a AND b", C, DB) == [f"EXCHANGE TABLES a AND b {ON}"]
    assert r("DROP TABLE IF EXISTS db.x SYNC", C, DB) == [f"DROP TABLE IF EXISTS db.x {ON} SYNC"]
    assert r("CREATE TABLE s AS t", C, DB) == [f"CREATE TABLE s {ON} AS t"]
    # a storage ALTER does not reach the Distributed table
    ttl = "ALTER TABLE t MODIFY TTL at + INTERVAL 1 DAY"
    assert r(ttl, C, DB, {"t"}) == [f"ALTER TABLE t {ON} MODIFY TTL at + INTERVAL 1 DAY"]
    # with no companions asked for (bookkeeping), none is made
    assert len(r("CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a", C, DB)) == 1


@pytest.mark.parametrize("name", ["", "a b", "x'; DROP", "{cluster}"])
def test_cluster_names_are_checked(name: str) -> None:
    with pytest.raises(ConfigError):
        cluster.on_cluster(name)


def test_a_cluster_needs_a_server(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a ClickHouse server"):
        ClickHouseStore(Settings(home=tmp_path, clickhouse_cluster=C))


def test_settings_carry_the_cluster_and_metrics_port() -> None:
    s = Settings(clickhouse_cluster=C, metrics_port=9464)
    env = s.to_env()
    assert env["STATFLOW_CLICKHOUSE_CLUSTER"] == C and env["STATFLOW_METRICS_PORT"] == "9464"
    back = Settings.from_env(env)
    assert (back.clickhouse_cluster, back.metrics_port) == (C, 9464)
    assert (Settings.from_env({}).clickhouse_cluster, Settings.from_env({}).metrics_port) == ("", 0)


def test_readme_engine_table_matches_the_rendering() -> None:
    """README's "ClickHouse engines per mode" table is what the code does."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text("utf-8")
    section = readme.split("## ClickHouse engines per mode", 1)[1].split("\n## ", 1)[0]
    documented = {
        m.group(1): (m.group(2), m.group(3), m.group(4))
        for m in re.finditer(
            r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", section, re.M
        )
    }
    out = {CREATE_TABLE.match(s).group(1): s for s in rendered() if CREATE_TABLE.match(s)}  # type: ignore[union-attr]
    files = {}
    for m in migrate.load():
        for stmt in m.statements:
            t = CREATE_TABLE.match(stmt)
            if t:
                files[t.group(1)] = stmt
    assert set(documented) == set(files) | {"schema_migrations"}
    for table, stmt in files.items():
        single, clustered, reads = documented[table]
        assert re.search(rf"ENGINE = {re.escape(single.strip())}\s", stmt + "\n"), table
        engine = clustered.strip().split("(")[0]
        args = clustered.strip()[len(engine) :].strip("()")
        want = f"ENGINE = {engine}({PATH}{', ' + args if args else ''})"
        assert want in out[table], (table, want)
        assert (reads.strip() == f"`{table}_all`") == (f"{table}_all" in out), table
