"""One request's statement, run on this process's own chDB engine.

Each request gets a new chDB connection on the engine the process's
ClickHouseStore opened (`ClickHouseStore.engine_session`): its own settings
and current database, like a request to a ClickHouse server, so a client's
settings never reach the worker's calls or another client's. A read runs beside
the worker's inserts (in one of the store's reader places); an INSERT queues
with the worker's writes under the store's lock. On that session: USE, the client's settings, the role's limits and (for
readers) `readonly = 1`; then ClickHouse's parser reads the statement
(formatQuery) and, for a reader, the policy checks the parser's tree (EXPLAIN
AST, which executes nothing) before a SELECT is resolved (EXPLAIN QUERY TREE,
checked again) and run. A reader gets two sessions: its statement runs on one
with its own (lowered) limits and its SETTINGS clause's checked values; it is
checked on the other under the store's limits (reader_settings.settings_clauses says
why). A reader's errors from the engine keep ClickHouse's
code and name but not its message, which can quote data. An INSERT's data is
written to a file and read with `INSERT … FROM INFILE … FORMAT <its format>`,
so a Native body from clickhouse-connect is applied as sent, settings such as
insert_deduplication_token included.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from core.errors import ClickHouseHTTPError
from core.settings import Settings
from sinks.clickhouse import ClickHouseStore
from web.chhttp import policy, reader_settings
from web.chhttp.request import ChRequest, summary
from web.chhttp.sql import Statement, classify, escape_param, infile_insert, without_format

# chDB's Python layer turns these format names into Python objects, not bytes.
_PYTHON_FORMATS = frozenset({"dataframe", "arrowtable", "debug"})
_CODE = re.compile(r"^\s*Code: (\d+)\. DB::Exception: ", re.DOTALL)
_NAME = re.compile(r"\s*\(([A-Z][A-Z0-9_]+)\)(?:\s*\(version [^)]*\))?\.?\s*$")
_IN_SCOPE = re.compile(r": In scope SELECT formatQuerySingleLine\(.*$", re.DOTALL)
_STATUS = {
    **dict.fromkeys((192, 193, 194, 516), 401),
    **dict.fromkeys((164, 291, 446, 452, 497), 403),
    **dict.fromkeys((60, 81, 46, 47, 56, 63), 404),
    **dict.fromkeys(
        (6, 26, 27, 32, 36, 43, 53, 62, 72, 73, 78, 80, 89, 115, 117, 271, 456, 457), 400
    ),  # fmt: skip
    # A statement over the limits its token allows (rows, bytes, time,
    # memory) is the request's fault: a 4xx, never a 5xx, for every role.
    **dict.fromkeys((158, 159, 160, 241, 307, 396), 400),
    229: 413,
    48: 501,
}


@dataclass(frozen=True)
class Answer:
    body: bytes
    format: str | None  # the answer's format, for statements that produce one
    summary: dict[str, str]
    timezone: str
    compress: bool  # enable_http_compression in effect for this request


class Engine:
    def __init__(self, store: ClickHouseStore, settings: Settings) -> None:
        self.store = store
        self.limits = policy.Limits(
            settings.clickhouse_http_max_rows,
            settings.clickhouse_http_max_seconds,
            settings.clickhouse_http_max_memory,
        )
        self.scratch = (settings.home / "chhttp").resolve()  # INSERT bodies, briefly
        self.scratch.mkdir(parents=True, exist_ok=True)
        version, timezone = store.query_rows("SELECT version(), timezone()")[0]
        self.version, self.timezone = str(version), str(timezone)

    def grant(self, subject: str, roles: tuple[str, ...]) -> policy.Grant:
        return policy.grant_for(subject, roles, self.store.database, self.store.reports_database)

    def run(self, grant: policy.Grant, req: ChRequest) -> Answer:
        stmt = classify(req.query)
        policy.check_statement(stmt, grant, req.method)
        database = policy.session_database(grant, req.database)
        pairs = reader_settings.session_settings(grant, req.settings, self.limits)
        asked = reader_settings.QuerySettings()
        if grant.role == policy.READER:  # its SETTINGS clauses, read before anything runs
            found, clauses, _ = reader_settings.settings_clauses(stmt.text)
            asked = reader_settings.check_query_settings(
                stmt.kind, found, clauses, grant, self.limits
            )
        fmt = _format_name(stmt.output_format or req.default_format or "TabSeparated")
        # An INSERT's data goes to disk before the store's lock is taken.
        # A reader is told ClickHouse's code and name, never its message: that
        # can quote values of the data (policy.reader_error).
        scrub = self.limits if grant.role == policy.READER else None
        reader = grant.role == policy.READER
        # A reader's statement is checked on a session of its own with the
        # store's limits: EXPLAIN's answer is rows too, and a reader who
        # lowered max_result_rows to 10 must not have the parse of its query
        # cut short (or refused) by its own limit.
        checks = (
            reader_settings.session_settings(
                grant, reader_settings.without_limits(req.settings), self.limits
            )
            if reader
            else pairs
        )
        with (
            self._data_file(stmt, req.query) as path,
            self.store.engine_sessions(stmt.is_read, 2 if reader else 1) as conns,
        ):
            sessions = [(_Session(conns[0], scrub), pairs)]
            if reader:
                sessions.append((_Session(conns[1], scrub), checks))
            for session, settings in sessions:
                session.run(f"USE `{database}`")  # checked: an identifier
                session.run("SET " + ", ".join(f"{name} = {value}" for name, value in settings))
            s, c = sessions[0][0], sessions[-1][0]
            if reader:
                if asked.filters:
                    self._check_filters(c, asked, grant)
                if asked.pairs:  # the clause's values, so that it changes nothing
                    s.run("SET " + ", ".join(f"{name} = {value}" for name, value in asked.pairs))
                s.run(f"SET readonly = {self._readonly(stmt, asked)}")
                c.run("SET readonly = 1")  # it EXPLAINs the statement without its clauses
            self._check(c, stmt, grant, req, asked)
            sql = stmt.text if path is None else infile_insert(stmt, path)
            result = s.query(sql, fmt, req.params)
            body = bytes(result.bytes() or b"")
            if not body and fmt == "Native" and stmt.kind == "select":
                body = _native_header(s, stmt, req.params)
        compress = req.settings.get("enable_http_compression", "1") == "1"
        return Answer(
            body,
            fmt if stmt.is_read else None,
            summary(result, len(body), inserted=stmt.kind == "insert"),
            req.settings.get("session_timezone") or self.timezone,
            compress,
        )

    @contextmanager
    def _data_file(self, stmt: Statement, query: bytes) -> Iterator[str | None]:
        """The data of an INSERT … FORMAT in a file, for FROM INFILE; None for
        every other statement."""
        if stmt.insert_format is None or stmt.data_offset is None:
            yield None
            return
        fd, path = tempfile.mkstemp(prefix="insert-", suffix=".data", dir=self.scratch)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(memoryview(query)[stmt.data_offset :])
            yield path
        finally:
            os.unlink(path)

    @staticmethod
    def _readonly(stmt: Statement, asked: reader_settings.QuerySettings) -> int:
        """1 for every reader's statement but one kind: a read of
        system.settings without a SETTINGS clause runs under `readonly = 2`.
        Under 1, system.settings marks every setting read-only, and
        clickhouse-connect then refuses on the client side any `settings=`,
        even the lowering of a limit this interface allows. Under 2 the column
        says the settings may be sent; which are accepted stays this policy's
        decision (session_settings and check_query_settings run before any
        SET), and `readonly` itself still cannot change. No setting can
        change in such a statement: it has no SETTINGS clause in the lexer's
        reading, in the canonical text, nor in ClickHouse's parse (no `Set`
        node in EXPLAIN AST, checked in `_check`), and SET is refused."""
        return 2 if reader_settings.names_system_settings(stmt) and not asked.clause else 1

    def _check_filters(
        self, s: _Session, asked: reader_settings.QuerySettings, grant: policy.Grant
    ) -> None:
        """A reader's additional_table_filters: each on an existing view of the
        reports database, each filter read by ClickHouse's parser alone."""
        views = {str(r[0]) for r in self.store.query_rows(
            "SELECT name FROM system.tables WHERE database = {db:String}",
            {"db": grant.reports})}  # fmt: skip
        unknown = sorted(reader_settings.filter_tables(asked.filters) - views)
        if unknown:
            raise policy.denied(
                f"{reader_settings.FILTERS} names {unknown[0][:64]!r}, which is not a view of "
                f"{grant.reports!r} (SHOW TABLES lists them)"
            )
        databases = self._databases()
        for _, expression in asked.filters:
            # Parsed only (EXPLAIN AST executes nothing); check_filter_text made
            # sure the expression cannot close the parentheses it is put in.
            tree = s.text(f"EXPLAIN AST SELECT 1 WHERE (\n{expression}\n)")
            reader_settings.check_filter_ast("\n".join(tree), grant, databases)

    def _check(
        self,
        s: _Session,
        stmt: Statement,
        grant: policy.Grant,
        req: ChRequest,
        asked: reader_settings.QuerySettings,
    ) -> None:
        """ClickHouse's own reading of the statement must pass the same rules."""
        try:  # the parser on the client's own text: its complaint can quote only that
            text = s.scalar("SELECT formatQuerySingleLine({q:String})", escape_param(stmt.text),
                            parse_only=True)  # fmt: skip
        except ClickHouseHTTPError as exc:  # the parser's complaint, without our wrapper
            raise ClickHouseHTTPError(exc.code, exc.name, _IN_SCOPE.sub("", str(exc)),
                                      exc.status) from None  # fmt: skip
        canonical = classify(text.encode())
        if canonical.kind != stmt.kind:
            raise ClickHouseHTTPError(
                62, "SYNTAX_ERROR",
                f"ClickHouse reads this statement as {canonical.kind}, not {stmt.kind}; "
                "send it without tricks", 400,
            )  # fmt: skip
        policy.check_statement(canonical, grant, req.method)
        if grant.role == policy.READER:
            found, clauses, _ = reader_settings.settings_clauses(canonical.text)
            again = reader_settings.check_query_settings(
                canonical.kind, found, clauses, grant, self.limits
            )
            if again != asked:
                raise policy.readonly_refusal(
                    "ClickHouse's parser reads the SETTINGS of this statement otherwise than "
                    "the interface does: write them plainly (name = literal)"
                )
        if grant.role == policy.READER:
            # The parser's tree first: EXPLAIN AST executes nothing, while the
            # analyzer (EXPLAIN QUERY TREE, and running the statement) executes
            # scalar subqueries as it resolves names.
            _, _, plain = reader_settings.settings_clauses(without_format(stmt))
            ast = s.text(f"EXPLAIN AST {plain}", req.params)
            databases = self._databases()
            # With the reader's own additional_table_filters in force, the
            # store's filters on system tables are not: nothing of system may
            # be read then.
            system = not asked.filters
            policy.check_ast("\n".join(ast), grant, databases, system=system)
            if any(kind == "Set" for _, kind, _ in policy.ast_nodes("\n".join(ast))):
                raise policy.readonly_refusal(
                    "ClickHouse's parser finds a SETTINGS clause the interface does not: "
                    "write it plainly (SETTINGS name = literal)"
                )
            policy.check_reader_words([stmt, canonical], grant, databases)
            if stmt.kind == "select":  # a second, independent reading
                tree = s.text(f"EXPLAIN QUERY TREE {plain}", req.params)
                policy.check_query_tree("\n".join(tree), grant, system=system)
                return
        if policy.names_databases([stmt, canonical]):  # most inserts name none
            policy.check_databases([stmt, canonical], grant, self._databases())

    def _databases(self) -> set[str]:
        """Every database of the engine, from the store's own session (a
        reader's system.databases is filtered to the reports database)."""
        return {str(r[0]) for r in self.store.query_rows("SELECT name FROM system.databases")}


class _Session:
    """A chDB connection whose errors come out as ClickHouse-shaped ones."""

    def __init__(self, conn: Any, scrub: policy.Limits | None = None) -> None:
        self.conn = conn
        self.scrub = scrub  # a reader's limits: its errors lose ClickHouse's message

    def query(
        self,
        sql: str,
        fmt: str,
        params: Mapping[str, str] | None = None,
        *,
        parse_only: bool = False,
    ) -> Any:
        try:
            return self.conn.query(sql, fmt, params=dict(params or {}))
        except Exception as exc:  # chDB raises RuntimeError with ClickHouse's text
            err = from_engine(str(exc))
            if self.scrub is not None and not parse_only:
                raise policy.reader_error(err.code, err.name, err.status, self.scrub) from None
            raise err from None

    def run(self, sql: str) -> None:
        self.query(sql, "TabSeparated")

    def text(
        self, sql: str, params: Mapping[str, str] | None = None, *, parse_only: bool = False
    ) -> list[str]:
        out = self.query(sql, "TSVRaw", params, parse_only=parse_only).bytes() or b""
        return bytes(out).decode("utf-8", "replace").splitlines()

    def scalar(self, sql: str, param: str, *, parse_only: bool = False) -> str:
        return "\n".join(self.text(sql, {"q": param}, parse_only=parse_only))


def _native_header(s: _Session, stmt: Statement, params: Mapping[str, str]) -> bytes:
    """chDB writes nothing for an empty Native answer; ClickHouse writes a block
    of 0 rows that still names the columns and their types, and clients (a
    DataFrame's columns, Grafana's fields) rely on it."""
    try:
        columns = [line.split("\t")[:2] for line in
                   s.text(f"DESCRIBE ({without_format(stmt)})", params)]  # fmt: skip
    except ClickHouseHTTPError:
        return b""
    out = bytearray(_leb128(len(columns)) + _leb128(0))
    for name, type_name in columns:
        for text in (name.encode(), type_name.encode()):
            out += _leb128(len(text)) + text
    return bytes(out)


def _leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def from_engine(message: str) -> ClickHouseHTTPError:
    """chDB's exception text (`Code: 60. DB::Exception: … (UNKNOWN_TABLE)`,
    sometimes wrapped twice) as a ClickHouseHTTPError."""
    m = _CODE.match(message)
    if not m:
        return ClickHouseHTTPError(1002, "UNKNOWN_EXCEPTION", message.strip()[:2000], 500)
    code, text = int(m.group(1)), message
    while (m := _CODE.match(text)) is not None:
        text = text[m.end() :]
    name = _NAME.search(text)
    while (cut := _NAME.search(text)) is not None:  # "(READONLY) (version …). (READONLY)"
        text = text[: cut.start()]
    return ClickHouseHTTPError(
        code, name.group(1) if name else "UNKNOWN_EXCEPTION", text.strip(), http_status(code)
    )


def http_status(code: int) -> int:
    """The HTTP status ClickHouse's handler gives an exception code."""
    return _STATUS.get(code, 500)


def _format_name(name: str) -> str:
    if name.lower() in _PYTHON_FORMATS or not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", name):
        raise ClickHouseHTTPError(73, "UNKNOWN_FORMAT", f"Unknown format {name[:64]}", 400)
    return name
