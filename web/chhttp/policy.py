"""Who may run what on the store's ClickHouse HTTP interface: pure rules.

Two roles, carried by the same HS256 tokens as the report API (reports/tiers.py):

- `sql_reader` (report writers, Grafana, notebooks): SELECT, SHOW, DESCRIBE and
  EXISTS on the reports database of views without personal identifiers.
  Before anything of a reader's statement is analysed or run, ClickHouse's
  parser alone reads it (EXPLAIN AST, which executes nothing: the analyzer
  runs scalar subqueries while it resolves names, so resolving first would
  run `(SELECT patient_id FROM statflow.…)` and its error could quote the
  values) and `check_ast` decides: only the reports database, a few metadata
  tables of `system`, and table functions that make numbers. Only then is a
  SELECT resolved (EXPLAIN QUERY TREE, `check_query_tree`) as a second,
  independent reading. `readonly = 1` is set on every such session after the
  client's settings, with row, time and memory limits (which the reader may
  lower, in the URL or a SETTINGS clause, never raise); a read of
  system.settings gets `readonly = 2` (engine: clickhouse-connect's probe).
  Grafana's ad-hoc filters (additional_table_filters) may narrow the reports
  views (web/chhttp/reader_settings.py: `check_query_settings`,
  `check_filter_ast`, with the session's settings and limits). Errors from the engine
  reach a reader as ClickHouse's code and name with a message of ours
  (`reader_error`), never ClickHouse's text, which can quote values.
- `service` (statflow workers and APIs in other processes): reads, inserts and
  DDL on the statflow database and the databases named after it
  (`<db>_reports`, `<db>_backfill_…`), which is what ClickHouseStore and the
  migrations send. Never `system` writes, SET/USE/SYSTEM/KILL/GRANT/BACKUP.

For everybody: one statement per request, no INTO OUTFILE / FROM INFILE / INSERT
INTO FUNCTION, and no function that reaches the host or the network.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.auth import SQL_READER, SQL_SERVICE
from core.errors import ClickHouseHTTPError
from web.chhttp.sql import READ_KINDS, Statement

READER, SERVICE = SQL_READER, SQL_SERVICE
SYSTEM_DATABASES = frozenset({"system", "information_schema", "INFORMATION_SCHEMA"})

# Table functions and functions that read files, URLs, other servers or
# programs on the store's host. Names are compared in lower case.
HOST_ACCESS = frozenset({
    "file", "filecluster", "url", "urlcluster", "s3", "s3cluster", "gcs", "oss", "cosn",
    "hdfs", "hdfscluster", "remote", "remotesecure", "cluster", "clusterallreplicas",
    "mysql", "postgresql", "sqlite", "mongodb", "redis", "jdbc", "odbc", "executable",
    "azureblobstorage", "azureblobstoragecluster", "deltalake", "hudi", "iceberg",
    "icebergs3", "icebergazure", "iceberghdfs", "iceberglocal", "input",
    "arrowflight", "ytsaurus", "catboostevaluate", "filelog", "s3queue", "azurequeue",
    "objectstoragequeue", "kafka", "rabbitmq", "nats", "hive", "executablepool",
    "materializedpostgresql",
    # ... or other databases, past the database checks
    "merge", "distributed", "dictionary",
})  # fmt: skip
# Settings that name a file or a URL the engine reads or writes (chDB reads a
# format_template_resultset of /etc/hostname and quotes it in its error).
FILE_SETTINGS = frozenset({
    "format_schema", "format_schema_source", "format_template_resultset",
    "format_template_row", "input_format_record_errors_file_path", "output_format_schema",
    "format_avro_schema_registry_url",
})  # fmt: skip
# What else a reader may not call: dictionaries and Join tables read data the
# database check cannot see; the rest reads the server's configuration.
_READER_FUNCTIONS_DENIED = frozenset({
    "joinget", "joingetornull", "hascolumnintable", "getserversetting",
    "getmergetreesetting", "getmacro",
    "filesystemavailable", "filesystemcapacity", "filesystemunreserved",
    "showcertificate", "naivebayesclassifier",
})  # fmt: skip
READER_TABLE_FUNCTIONS = frozenset({
    "numbers", "numbers_mt", "zeros", "zeros_mt", "values", "generateseries",
    "generate_series", "generaterandom",
})  # fmt: skip
# Metadata a client or a BI tool looks at; system.tables, columns and databases
# are filtered to the reports database for readers (see reader_settings.reader_limits).
_SYSTEM_READABLE = frozenset({
    "one", "numbers", "numbers_mt", "zeros", "zeros_mt", "settings", "databases", "tables",
    "columns", "functions", "table_functions", "formats", "data_type_families", "time_zones",
    "build_options", "collations", "table_engines", "aggregate_function_combinators",
    "keywords", "merge_tree_settings",
})  # fmt: skip
READER_SYSTEM_TABLES = {
    "system": _SYSTEM_READABLE,
    "information_schema": frozenset({"tables", "columns", "schemata", "views"}),
    "INFORMATION_SCHEMA": frozenset({"TABLES", "COLUMNS", "SCHEMATA", "VIEWS"}),
}
_SHOW_MODIFIERS = frozenset({"FULL", "EXTENDED", "TEMPORARY", "CHANGED"})
_SHOW_ALLOWED = frozenset({
    "TABLES", "DATABASES", "COLUMNS", "FIELDS", "CREATE", "DICTIONARIES", "SETTINGS",
    "SETTING", "FUNCTIONS", "ENGINES", "INDEX", "INDEXES", "INDICES", "KEYS",
})  # fmt: skip
_DDL_MODIFIERS = frozenset({"OR", "REPLACE", "TEMPORARY", "IF", "NOT", "EXISTS"})
_DDL_OBJECTS = frozenset({"TABLE", "TABLES", "VIEW", "MATERIALIZED", "DATABASE"})
_SERVICE_KINDS = READ_KINDS | {"insert", "ddl"}
_READER_KINDS = READ_KINDS - {"explain"}
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_TREE_TABLE = re.compile(r"\btable_name: ([^\s,]+)")
_TREE_TABLE_FUNCTION = re.compile(r"\btable_function_name: ([^\s,]+)")
_TREE_FUNCTION = re.compile(r"\bfunction_name: ([^\s,]+)")


@dataclass(frozen=True)
class Grant:
    role: str  # READER or SERVICE
    subject: str  # the token's subject, for the log (never a personal number)
    home: str  # the statflow database
    reports: str  # its reports database


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_seconds: int
    max_memory: int = 1 << 30  # bytes (max_memory_usage)


def denied(message: str) -> ClickHouseHTTPError:
    return ClickHouseHTTPError(497, "ACCESS_DENIED", message, 403)


def readonly_refusal(message: str) -> ClickHouseHTTPError:
    return ClickHouseHTTPError(164, "READONLY", message, 403)


def grant_for(subject: str, roles: Sequence[str], home: str, reports: str) -> Grant:
    """The strongest SQL role among a token's roles."""
    for role in (SERVICE, READER):
        if role in roles:
            return Grant(role, subject, home, reports)
    raise denied(
        "this token has no SQL role: mint one with `statflow token --role sql_reader` "
        "(reports database, read only) or `--role service` (statflow workers)"
    )


def check_statement(stmt: Statement, grant: Grant, method: str) -> None:
    """Refuse what the role may not run; called on the client's text and again
    on ClickHouse's canonical reading of it."""
    if stmt.outfile or stmt.infile:
        raise denied(
            "INTO OUTFILE and FROM INFILE touch files on the store's host: read the answer "
            "from the response, send insert data in the request body"
        )
    if stmt.into_function:
        raise denied("INSERT INTO FUNCTION is not served: insert into a table")
    files = sorted(stmt.names & FILE_SETTINGS)
    if files:
        raise denied(f"the setting {files[0]} names a file on the store's host; it is not served")
    reached = sorted(stmt.calls & HOST_ACCESS)
    if reached:
        raise denied(
            f"{reached[0]}() reaches files, URLs or servers outside the store; it is not served"
        )
    if method == "GET" and not stmt.is_read:
        raise readonly_refusal(
            "Cannot execute query in readonly mode. For queries over HTTP, method GET implies "
            "readonly. You should use method POST for modifying queries"
        )
    if grant.role == SERVICE:
        _check_service(stmt)
    else:
        _check_reader(stmt)


def _check_service(stmt: Statement) -> None:
    if stmt.kind not in _SERVICE_KINDS:
        raise denied(
            f"{stmt.words[0] if stmt.words else 'this statement'} is not served to a service "
            "token: send reads, INSERT or DDL (CREATE, ALTER, DROP, TRUNCATE, RENAME, "
            "EXCHANGE, OPTIMIZE); settings go in the URL, one statement per request"
        )
    if stmt.kind == "ddl" and stmt.words[0] not in ("TRUNCATE", "OPTIMIZE"):
        # Dictionaries, functions, users and named collections are global and can
        # name sources outside the store; statflow's migrations make none.
        what = next((w for w in stmt.words[1:] if w not in _DDL_MODIFIERS), "")
        if what not in _DDL_OBJECTS:
            raise denied(
                f"{stmt.words[0]} {what} is not served to a service token: DDL on tables, "
                "views and databases only"
            )


def _check_reader(stmt: Statement) -> None:
    if stmt.kind not in _READER_KINDS:
        raise readonly_refusal(
            "Cannot execute query in readonly mode: a sql_reader token runs SELECT, SHOW, "
            "DESCRIBE and EXISTS only"
        )
    if stmt.kind == "show":
        rest = [w for w in stmt.words[1:] if w not in _SHOW_MODIFIERS]
        if not rest or rest[0] not in _SHOW_ALLOWED:
            raise denied(
                f"SHOW {' '.join(stmt.words[1:2])} is not served to a sql_reader token "
                "(it can show other sessions' queries or the server's state)"
            )
    calls = sorted(c for c in stmt.calls if _reader_denied_function(c))
    if calls:
        raise denied(
            f"{calls[0]}() reads data outside the reports database or the server's "
            "configuration; it is not served to a sql_reader token"
        )


def _reader_denied_function(name: str) -> bool:
    name = name.lower()
    return name.startswith("dict") or name in _READER_FUNCTIONS_DENIED


def allowed_database(grant: Grant, name: str) -> bool:
    """A database a service token may name (and write)."""
    return name in (grant.home, grant.reports) or name.startswith(grant.home + "_")


def names_databases(stmts: Sequence[Statement]) -> bool:
    """Whether check_databases has anything to check (and so needs `known`)."""
    return any(stmt.qualified or stmt.databases for stmt in stmts)


def check_databases(stmts: Sequence[Statement], grant: Grant, known: set[str]) -> None:
    """Every database a statement names must be the role's. A dotted name's
    head counts as a database only if such a database exists (`t.col` is a
    column). Service tokens: statflow's databases, and `system` for reading.
    Readers (for SHOW, DESCRIBE, EXISTS; a SELECT is checked on its query tree):
    the reports database and `system`."""
    for stmt in stmts:
        for name in [h for h, _ in stmt.qualified] + list(stmt.databases):
            if not (name in known or name in stmt.databases):
                continue
            if name in SYSTEM_DATABASES:
                if stmt.is_read:
                    continue
                raise denied(f"a service token does not write to the {name} database")
            if grant.role == READER and name != grant.reports:
                raise denied(
                    f"database {name[:64]!r} is not served to a sql_reader token; "
                    f"it reads {grant.reports!r}"
                )
            if grant.role == SERVICE and not allowed_database(grant, name):
                raise denied(
                    f"database {name[:64]!r} is not this store's: a service token works in "
                    f"{grant.home!r} and the databases named {grant.home}_*"
                )


def session_database(grant: Grant, requested: str | None) -> str:
    """The current database of the request's session."""
    if requested and not _SETTING_NAME.match(requested):
        raise denied(f"{requested[:64]!r} is not a database name")
    if grant.role == READER:
        if requested in (None, "", "default", grant.reports):
            return grant.reports
        raise denied(
            f"a sql_reader token reads the database {grant.reports!r} only, not {requested[:64]!r}"
        )
    if requested in (None, "", "default"):
        return grant.home
    if allowed_database(grant, requested) or requested in SYSTEM_DATABASES:
        return requested
    raise denied(f"database {requested[:64]!r} is not this store's")


def check_query_tree(tree: str, grant: Grant, *, system: bool = True) -> None:
    """A reader's SELECT as ClickHouse resolved it (EXPLAIN QUERY TREE): every
    table it reads (scalar and IN subqueries included; views are not expanded)
    must be in the reports database or an allowed metadata table, and table
    functions and functions must be harmless. Fails closed: a line naming a
    table that cannot be parsed is refused."""
    for line in tree.splitlines():
        if "table_function_name:" in line:
            m = _TREE_TABLE_FUNCTION.search(line)
            name = m.group(1) if m else "?"
            if name.lower() not in READER_TABLE_FUNCTIONS:
                raise denied(
                    f"the table function {name[:64]}() is not served to a sql_reader token; "
                    f"read the views of {grant.reports!r}"
                )
        elif "table_name:" in line:
            m = _TREE_TABLE.search(line)
            if not m or not _reader_table(m.group(1), grant, system):
                shown = m.group(1)[:96] if m else "a table"
                raise denied(
                    f"{shown} is outside the reports database: a sql_reader token reads "
                    f"the views of {grant.reports!r}"
                )
        elif "function_name:" in line:
            m = _TREE_FUNCTION.search(line)
            if m and (_reader_denied_function(m.group(1)) or m.group(1).lower() in HOST_ACCESS):
                raise denied(f"{m.group(1)}() is not served to a sql_reader token")


def _reader_table(qualified: str, grant: Grant, system: bool = True) -> bool:
    """A table a reader may read; `system=False` when the reader's own
    additional_table_filters replace the server's filters on system tables,
    so no system or information_schema table may be read at all."""
    db, dot, table = qualified.partition(".")
    if not dot:
        return False
    if db == grant.reports:
        return True
    return system and table in READER_SYSTEM_TABLES.get(db, frozenset())


# One line of EXPLAIN AST: indentation (one space a level), the node's kind,
# then its text, e.g. `      TableIdentifier db.t (alias x)`.
_AST_LINE = re.compile(r"^( *)([A-Za-z][A-Za-z0-9_]*)(?: (.*))?$")
_AST_TAIL = re.compile(r" \((?:alias .*|children \d+)\)$")


def ast_nodes(tree: str) -> list[tuple[int, str, str]]:
    """(depth, kind, text) for every line of an EXPLAIN AST answer; the text
    without its ` (alias …)` and ` (children N)` tails. A line that does not
    read as a node, or a jump of more than one level, is refused: names with
    line breaks would otherwise split a node over lines (fails closed)."""
    nodes: list[tuple[int, str, str]] = []
    for line in tree.splitlines():
        m = _AST_LINE.match(line)
        depth = len(m.group(1)) if m else -1
        if m is None or depth > (nodes[-1][0] + 1 if nodes else 0) or (nodes and depth == 0):
            raise denied(
                "ClickHouse's parser reads this statement in a way the interface cannot check "
                "(a name with a line break?): rename, or write it plainly"
            )
        text = m.group(3) or ""
        while (tail := _AST_TAIL.search(text)) is not None:
            text = text[: tail.start()]
        nodes.append((depth, m.group(2), text))
    return nodes


def check_ast(tree: str, grant: Grant, databases: set[str], *, system: bool = True) -> None:
    """A reader's statement as ClickHouse's parser reads it (EXPLAIN AST, which
    executes and resolves nothing): every table it names is in the reports
    database or an allowed metadata table of `system`; a name of a statflow
    database (`databases`: every database but the reports one and system's)
    appears nowhere, also not as `x IN db.t`, `joinGet(db.t, …)`, `loop(db.t)`
    or `SHOW TABLES FROM db`; table functions make numbers only, and no denied
    function is called. Unqualified names resolve in the session's database,
    which is the reports database."""
    other = {d for d in databases if d != grant.reports and d not in SYSTEM_DATABASES}
    nodes = ast_nodes(tree)
    for i, (depth, kind, text) in enumerate(nodes):
        parent = nodes[i - 1] if i and nodes[i - 1][0] == depth - 1 else None
        if kind == "TableIdentifier":
            db, dot, _ = text.partition(".")
            if (dot and not _reader_table(text, grant, system)) or db in other:
                raise denied(
                    f"{text[:96]} is outside the reports database: a sql_reader token reads "
                    f"the views of {grant.reports!r}"
                )
        elif kind == "Identifier":
            parts = text.split(".")
            head = parts[0]
            if head in other or (
                len(parts) > 1
                and head in SYSTEM_DATABASES
                and not _reader_table(".".join(parts[:2]), grant, system)
            ):
                raise denied(
                    f"{text[:96]} names a database other than {grant.reports!r}, which is all "
                    "a sql_reader token reads"
                )
        elif kind == "Function":
            name = text.lower()
            if parent is not None and parent[1] == "TableExpression":
                if name not in READER_TABLE_FUNCTIONS:
                    raise denied(
                        f"the table function {text[:64]}() is not served to a sql_reader "
                        f"token; read the views of {grant.reports!r}"
                    )
            elif _reader_denied_function(name) or name in HOST_ACCESS:
                raise denied(f"{text[:64]}() is not served to a sql_reader token")


def check_reader_words(stmts: Sequence[Statement], grant: Grant, databases: set[str]) -> None:
    """SHOW, DESCRIBE and EXISTS of a reader: no word of the statement may be
    the name of a statflow database. EXPLAIN AST leaves the names out of some
    of these (`SHOW COLUMNS FROM t FROM db` is a bare `ShowColumns`), so the
    lexer's words decide here; case is ignored, which only refuses more."""
    other = {d.lower() for d in databases if d != grant.reports and d not in SYSTEM_DATABASES}
    for stmt in stmts:
        if stmt.kind == "select":
            continue
        named = sorted(stmt.names & other)
        if named:
            raise denied(
                f"database {named[0][:64]!r} is not served to a sql_reader token; "
                f"it reads {grant.reports!r}"
            )


# What a reader is told instead of ClickHouse's message, by error code: the
# message can quote values of the data (`Unknown element '1990…' for enum`,
# `Cannot parse string '…' as Date`), so none of its text is passed on.
_READER_HINTS = {
    47: "a column or alias it names does not exist (DESCRIBE <view> lists the columns)",
    60: "a table it names does not exist (SHOW TABLES lists the reports database's views)",
    46: "a function it calls does not exist",
    62: "ClickHouse cannot parse it",
    159: "it ran longer than the store's limit (max_execution_time = {seconds} s): "
    "filter on day or aggregate more",
    241: "it needs more memory than a sql_reader query may use (max_memory_usage = {memory} "
    "bytes): aggregate more, select fewer rows or columns, or filter on day",
    396: "the answer has more rows than the store's limit (max_result_rows = {rows}): "
    "filter or aggregate",
}


# Errors of the query itself (a value that does not parse or convert, an
# enum without the element, throwIf, a memory limit): the reader's to fix, so
# a 400 where ClickHouse's handler answers 500. TOO_MANY_ROWS_OR_BYTES and
# TIMEOUT_EXCEEDED keep ClickHouse's 500, which clients already expect.
_READER_FAULTS = frozenset({
    6, 27, 38, 41, 42, 43, 44, 53, 69, 70, 135, 153, 184, 215, 241, 321, 395, 407, 691,
})  # fmt: skip


def reader_error(code: int, name: str, status: int, limits: Limits) -> ClickHouseHTTPError:
    """An engine error as a sql_reader sees it: ClickHouse's code and name,
    a message of ours."""
    hint = _READER_HINTS.get(code, "check the names, types and values it uses").format(
        rows=limits.max_rows, seconds=limits.max_seconds, memory=limits.max_memory
    )
    message = (
        f"the query failed with {name}: {hint}. The message of the engine is not shown to "
        "sql_reader tokens, since it can quote values from the data"
    )
    return ClickHouseHTTPError(
        code, name, message, 400 if code in _READER_FAULTS and status >= 500 else status
    )
