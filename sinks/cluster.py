"""The migrations rendered for a ClickHouse cluster (STATFLOW_CLICKHOUSE_CLUSTER).

One set of migration files serves chDB, a single server and a cluster: for a
cluster each statement is rewritten here, never copied by hand, so the files
stay the single source and single-node DDL is left exactly as written.

- Every DDL statement runs `ON CLUSTER '<name>'`, so each node gets it.
- MergeTree-family engines become their Replicated* counterparts with the path
  `/clickhouse/tables/{uuid}/{shard}` and replica `{replica}` (the server's
  `shard` and `replica` macros). `{uuid}`, not `{database}/{table}`: the path of
  a table is fixed when it is created, and backfill swaps tables with EXCHANGE
  TABLES and re-creates its shadow database, and the reference-file swap copies
  a table with `CREATE TABLE … AS`; with a name-derived path the new table would
  claim the path the swapped-in table still uses. A uuid path is unique per
  table (it needs an Atomic database and ON CLUSTER, which is what we use).
- `non_replicated_deduplication_window` becomes `replicated_deduplication_window`
  (same window; replicated tables keep their block hashes in Keeper, so a
  deduplication token holds across replicas).
- EmbeddedRocksDB (the `<table>_seen` stores) is local to one server and its
  view fires only on the replica that took the insert: a worker writing through
  another replica would miss ids. It becomes a ReplicatedReplacingMergeTree
  ordered by its key (an `IN` lookup on the primary key; duplicates merge away).
- Every other replicated table gets a `<table>_all` Distributed table over it
  for readers that must see every shard (Grafana, downstream reports); ALTERs
  of columns follow it there. statflow itself reads and writes the local
  tables, so it supports one shard with any number of replicas.
- Any other engine (Memory, KeeperMap, Log, …) is refused: a migration adding
  one needs a decision here, not a silent single-node table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from core.errors import ConfigError, MigrationError

if TYPE_CHECKING:
    from sinks.ddl import Migration

REPLICA_PATH = "/clickhouse/tables/{uuid}/{shard}"
REPLICA_NAME = "{replica}"
READS_SUFFIX = "_all"

MERGE_TREE_FAMILY = frozenset(
    {
        "MergeTree",
        "ReplacingMergeTree",
        "SummingMergeTree",
        "AggregatingMergeTree",
        "CollapsingMergeTree",
        "VersionedCollapsingMergeTree",
        "GraphiteMergeTree",
        "CoalescingMergeTree",
    }
)

_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NAME = r"(?:\w+\.)?\w+"
# The object a DDL statement names; ON CLUSTER goes right after it.
_HEAD = re.compile(
    rf"^(?P<verb>CREATE(?:\s+OR\s+REPLACE(?=\s+TABLE\b))?|ALTER|DROP|TRUNCATE|DETACH|ATTACH)\s+"
    rf"(?P<kind>TABLE|VIEW|MATERIALIZED\s+VIEW|DATABASE|DICTIONARY)\s+"
    rf"(?P<cond>IF\s+(?:NOT\s+)?EXISTS\s+)?(?P<name>{_NAME})(?=\s|\(|$)",
    re.IGNORECASE,
)
# Two-name statements take ON CLUSTER at the end.
_PAIR = re.compile(
    rf"^(?:EXCHANGE\s+TABLES\s+{_NAME}\s+AND\s+{_NAME}|RENAME\s+TABLE\s+{_NAME}\s+TO\s+{_NAME})\s*$",
    re.IGNORECASE,
)
_DDL_VERB = re.compile(r"^(CREATE|ALTER|DROP|TRUNCATE|DETACH|ATTACH|EXCHANGE|RENAME)\b", re.I)
_ENGINE = re.compile(r"\bENGINE\s*=\s*(?P<engine>\w+)")
_AS_SELECT = re.compile(r"\bAS\s+(?:SELECT|WITH)\b", re.IGNORECASE)
_PRIMARY_KEY = re.compile(r"\bPRIMARY\s+KEY\s+(?P<key>\w+|\([^()]*\))")
_DEDUP_WINDOW = re.compile(r"\bnon_replicated_deduplication_window\b")
_COLUMN_COMMAND = re.compile(r"^(ADD|DROP|MODIFY|RENAME|COMMENT|CLEAR)\s+COLUMN\b", re.I)


def check_cluster(name: str) -> str:
    if not _CLUSTER_NAME.match(name):
        raise ConfigError(
            f"STATFLOW_CLICKHOUSE_CLUSTER={name!r} is not a cluster name "
            "(letters, digits, '_', '.', '-')"
        )
    return name


def on_cluster(cluster: str) -> str:
    """The clause, with the name as a string literal (names may hold '-')."""
    return f"ON CLUSTER '{check_cluster(cluster)}'"


def render(migrations: Sequence[Migration], cluster: str, database: str) -> list[Migration]:
    """The migrations as a cluster runs them; with no cluster, unchanged.

    Rendered as a whole, in order, because an ALTER must know whether its
    table got a Distributed companion in an earlier migration.
    """
    if not cluster:
        return list(migrations)
    with_reads: set[str] = set()
    return [
        replace(
            m,
            statements=tuple(
                out
                for stmt in m.statements
                for out in render_statement(stmt, cluster, database, with_reads)
            ),
        )
        for m in migrations
    ]


def render_statement(
    sql: str, cluster: str, database: str, with_reads: set[str] | None = None
) -> list[str]:
    """One statement for a cluster, plus the statements it implies.

    `with_reads` holds the tables that have a `<table>_all` companion: a CREATE
    TABLE adds to it and creates the companion, an ALTER follows it there.
    None = create no companions (statflow's own bookkeeping tables).
    """
    text = sql.strip()
    clause = on_cluster(cluster)
    pair = _PAIR.match(text)
    if pair:
        return [f"{text} {clause}"]
    head = _HEAD.match(text)
    if head is None:
        if _DDL_VERB.match(text):
            raise MigrationError(f"no cluster rendering for this statement: {text[:120]!r}")
        return [text]  # INSERT, SELECT, SYSTEM …: replicated tables carry them
    name = head.group("name")
    rendered = f"{text[: head.end()]} {clause}{text[head.end() :]}"
    words = head.group("verb").upper().split()
    verb, kind = words[0], " ".join(head.group("kind").upper().split())
    if verb == "CREATE" and kind in ("TABLE", "MATERIALIZED VIEW"):
        rendered, engine = _replicated(rendered, name, kind)
        if engine in MERGE_TREE_FAMILY and kind == "TABLE" and with_reads is not None:
            if len(words) > 1 and name in with_reads:
                # a table rebuilt (CREATE OR REPLACE … AS SELECT, e.g. with
                # another engine) keeps the companion it has: same name, columns
                return [rendered]
            with_reads.add(name)
            return [rendered, _reads_table(head.group("cond") or "", name, cluster, database)]
        return [rendered]
    if verb == "ALTER" and with_reads is not None and name in with_reads:
        body = text[head.end() :]
        if _only_column_commands(body, name):
            return [rendered, f"ALTER TABLE {name}{READS_SUFFIX} {clause}{body}"]
    return [rendered]


def _replicated(sql: str, name: str, kind: str) -> tuple[str, str]:
    """Swap the engine for its replicated counterpart; returns (sql, source engine)."""
    select = _AS_SELECT.search(sql)
    ddl_end = select.start() if select else len(sql)
    m = _ENGINE.search(sql, 0, ddl_end)
    if m is None:
        if kind == "TABLE" and re.search(rf"\bAS\s+{_NAME}\s*$", sql):
            return sql, ""  # CREATE TABLE x AS y: the engine is y's, already replicated
        if kind == "MATERIALIZED VIEW":
            return sql, ""  # `TO target`: the target table holds the data
        raise MigrationError(f"{name}: CREATE TABLE without an ENGINE clause")
    engine = m.group("engine")
    args, end = _arguments(sql, m.end())
    where = f"'{REPLICA_PATH}', '{REPLICA_NAME}'"
    if engine in MERGE_TREE_FAMILY:
        new = f"ENGINE = Replicated{engine}({where}{', ' + args if args else ''})"
        sql = sql[: m.start()] + new + sql[end:]
        return _DEDUP_WINDOW.sub("replicated_deduplication_window", sql), engine
    if engine.startswith("Replicated"):
        return sql, engine
    if engine == "EmbeddedRocksDB":
        key = _PRIMARY_KEY.search(sql, end)
        if key is None:
            raise MigrationError(f"{name}: EmbeddedRocksDB without a PRIMARY KEY clause")
        sql = (
            sql[: m.start()]
            + f"ENGINE = ReplicatedReplacingMergeTree({where})"
            + sql[end : key.start()]
            + f"ORDER BY {key.group('key')}"
            + sql[key.end() :]
        )
        return sql, engine
    raise MigrationError(
        f"{name}: engine {engine} has no cluster rendering; decide one in sinks/cluster.py"
    )


def _unquoted(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, parenthesis depth after it) of every character of
    `text` from `start` that is outside quotes."""
    depth, quote = 0, ""
    for j in range(start, len(text)):
        c = text[j]
        if quote:
            quote = "" if c == quote and text[j - 1] != "\\" else quote
            continue
        if c in "'`\"":
            quote = c
            continue
        depth += (c == "(") - (c == ")")
        yield j, c, depth


def _arguments(sql: str, pos: int) -> tuple[str, int]:
    """The text inside the parentheses that open at `pos` (after blanks), and
    the index after them; ("", pos) if no parentheses follow."""
    i = pos
    while i < len(sql) and sql[i] in " \t":
        i += 1
    if i >= len(sql) or sql[i] != "(":
        return "", pos
    for j, c, depth in _unquoted(sql, i):
        if c == ")" and depth == 0:
            return sql[i + 1 : j].strip(), j + 1
    raise MigrationError(f"unbalanced parentheses after position {pos}: {sql[:120]!r}")


def _top_level_commands(body: str) -> list[str]:
    parts, start = [], 0
    for j, c, depth in _unquoted(body):
        if c == "," and depth == 0:
            parts.append(body[start:j])
            start = j + 1
    parts.append(body[start:])
    return [p.strip() for p in parts if p.strip()]


def _only_column_commands(body: str, name: str) -> bool:
    """Column changes reach the Distributed companion; other ALTERs (indexes,
    TTL, mutations) are storage matters it has none of. A mix needs a decision."""
    flags = [bool(_COLUMN_COMMAND.match(c)) for c in _top_level_commands(body)]
    if all(flags):
        return True
    if any(flags):
        raise MigrationError(
            f"ALTER TABLE {name} mixes column and storage commands: "
            "split it so the column part can follow the Distributed table"
        )
    return False


def _reads_table(cond: str, name: str, cluster: str, database: str) -> str:
    reads = f"{name}{READS_SUFFIX}"
    return (
        f"CREATE TABLE {cond}{reads} {on_cluster(cluster)} AS {name} "
        f"ENGINE = Distributed('{cluster}', '{database}', '{name}')"
    )
