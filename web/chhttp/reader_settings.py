"""The settings a sql_reader may send, and the session settings they become:
pure rules beside the access rules of web/chhttp/policy.py.

`session_settings` turns a request's URL settings into the session's SET pairs
(answer shaping only, the store's limits after them, which a reader may lower,
never raise); `settings_clauses` and `check_query_settings` read and check a
reader's SETTINGS clauses, including Grafana's ad-hoc filters
(additional_table_filters, whose expressions `check_filter_ast` judges on
ClickHouse's parse).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import ClickHouseHTTPError
from web.chhttp.policy import (
    _SETTING_NAME,
    FILE_SETTINGS,
    SERVICE,
    Grant,
    Limits,
    ast_nodes,
    check_ast,
    denied,
    readonly_refusal,
)
from web.chhttp.sql import Statement, Token, quote_string, tokens

# Settings a reader may send: how answers are shaped, never what they may read.
_READER_SETTING_PREFIXES = (
    "output_format_", "format_csv_", "format_tsv_", "format_custom_", "date_time_",
    "interval_output_format", "join_",
)  # fmt: skip
_READER_SETTINGS = frozenset({
    "max_execution_time", "max_result_rows", "max_result_bytes", "max_memory_usage",
    "result_overflow_mode",
    "timeout_overflow_mode", "readonly", "extremes", "totals_mode", "max_block_size",
    "session_timezone", "transform_null_in", "aggregate_functions_null_for_empty",
    "prefer_column_name_to_alias", "union_default_mode", "log_comment", "limit", "offset",
    "max_query_size", "enable_http_compression", "cancel_http_readonly_queries_on_client_close",
    "cast_string_to_dynamic_use_inference", "use_concurrency_control",
})  # fmt: skip


def session_settings(
    grant: Grant, client: Mapping[str, str], limits: Limits
) -> list[tuple[str, str]]:
    """SET pairs (name, SQL literal) for a request's session, in order. A
    reader's settings come first and are limited to answer shaping; the
    server's limits follow, then `readonly = 1`, after which ClickHouse refuses
    any change, including a SETTINGS clause in the query."""
    for name in client:
        if not _SETTING_NAME.match(name):
            raise ClickHouseHTTPError(
                115, "UNKNOWN_SETTING", f"{name[:64]!r} is not a setting name", 400
            )
        if name.lower() in FILE_SETTINGS:
            raise denied(f"the setting {name} names a file on the store's host; it is not served")
    defaults = [("enable_http_compression", "1")]  # compress for clients that accept it
    if grant.role == SERVICE:
        return defaults + [(k, quote_string(v)) for k, v in client.items()]
    for name in client:
        if name not in _READER_SETTINGS and not name.startswith(_READER_SETTING_PREFIXES):
            raise readonly_refusal(
                f"Cannot modify '{name}' setting in readonly mode: a sql_reader token may "
                "set output and format settings only"
            )
    own = [(k, quote_string(v)) for k, v in client.items() if k not in _FORCED]
    rows = _lowest(client.get("max_result_rows"), limits.max_rows, "max_result_rows")
    secs = _lowest(client.get("max_execution_time"), limits.max_seconds, "max_execution_time")
    memory = _lowest(client.get("max_memory_usage"), limits.max_memory, "max_memory_usage")
    return defaults + own + reader_limits(grant, rows, secs, memory)


def without_limits(client: Mapping[str, str]) -> dict[str, str]:
    """A client's settings without the limits it may lower: for the session
    that only checks its statement, under the store's limits."""
    return {k: v for k, v in client.items() if k not in _FORCED and k != "max_result_bytes"}


_FORCED = frozenset({"max_result_rows", "max_execution_time", "result_overflow_mode",
                     "timeout_overflow_mode", "readonly", "max_memory_usage"})  # fmt: skip


def _lowest(asked: str | None, limit: int, name: str) -> int:
    """The client may tighten a limit, never loosen it (0 means none)."""
    if asked is None:
        return limit
    try:
        value = int(float(asked))
    except ValueError:
        raise ClickHouseHTTPError(
            72, "CANNOT_PARSE_NUMBER", f"{name} must be a number, got {asked[:32]!r}", 400
        ) from None
    return limit if value <= 0 else min(value, limit)


def reader_limits(
    grant: Grant, rows: int, seconds: int, memory: int = 1 << 30
) -> list[tuple[str, str]]:
    only = quote_string(grant.reports)
    filters = (
        f"{{'system.tables': {quote_string(f'database = {only}')}, "
        f"'system.columns': {quote_string(f'database = {only}')}, "
        f"'system.databases': {quote_string(f'name = {only}')}}}"
    )
    return [
        ("max_result_rows", str(rows)),
        ("result_overflow_mode", "'throw'"),
        ("max_execution_time", str(seconds)),
        ("timeout_overflow_mode", "'throw'"),
        ("max_memory_usage", str(memory)),
        ("additional_table_filters", filters),
    ]


# ---------------------------------------------------------------------------
# A reader's SETTINGS clause (issue 19: clients that lower limits, Grafana's
# ad-hoc filters). The session runs with `readonly = 1`, under which ClickHouse
# refuses any SETTINGS value that differs from the session's own. So a clause
# is read here (from the lexer's tokens; EXPLAIN AST prints a bare `Set`),
# checked, and its values are SET on the session before `readonly = 1`: the
# clause then changes nothing and ClickHouse runs it. Whatever this reading
# misses or misreads keeps a value the session does not hold, and ClickHouse
# itself refuses it (READONLY): the engine stays the last word.

LIMIT_SETTINGS = ("max_result_rows", "max_execution_time", "max_memory_usage")
_OVERFLOW_SETTINGS = ("result_overflow_mode", "timeout_overflow_mode")
FILTERS = "additional_table_filters"
_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?$")
_FILTER_MAX = 4096  # characters of one filter expression

SettingValue = str | int | float | bool | tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class QuerySettings:
    """What a reader's SETTINGS clauses ask, once checked."""

    pairs: tuple[tuple[str, str], ...] = ()  # SET pairs (name, SQL literal) for the session
    filters: tuple[tuple[str, str], ...] = ()  # additional_table_filters: (table, filter)
    clause: bool = False  # the text may hold a SETTINGS clause


def settings_clauses(text: str) -> tuple[bool, list[tuple[str, SettingValue]], str]:
    """(whether a bare SETTINGS keyword appears, the `name = literal` pairs
    that follow each, the text without those clauses). `system.settings` is a
    table, not a clause. A value that is not a literal (number, string,
    true/false, a map of strings) is refused: ClickHouse takes only literals
    there, and a guess is no check. The text without its clauses is what the
    engine asks EXPLAIN about: EXPLAIN applies a statement's SETTINGS to
    itself, so a lowered max_result_rows would cut the parse it answers. What
    is cut is only keywords, setting names, `=` and literals, none of which
    can name a table or call a function; and ClickHouse's parse of what is
    left must hold no SETTINGS clause at all (`Set`), or it is refused."""
    toks = list(tokens(text))
    found, out, cuts = False, [], []
    for i, tok in enumerate(toks):
        if not (tok.kind == "word" and tok.text.upper() == "SETTINGS"):
            continue
        if i and _is(toks[i - 1], "."):
            continue
        found = True
        j = i + 1
        while _assignment_at(toks, j):
            name = toks[j].text
            value, j = _literal(toks, j + 2)
            out.append((name, value))
            if j < len(toks) and _is(toks[j], ",") and _assignment_at(toks, j + 1):
                j += 1
                continue
            break
        if j > i + 1:
            cuts.append((tok.start, toks[j - 1].end))
    # Each clause becomes a line break: a `--` comment before it still ends
    # where it ended, so nothing after the clause falls into it.
    kept, at = [], 0
    for start, end in cuts:
        kept.append(text[at:start])
        at = end
    kept.append(text[at:])
    return found, out, "\n".join(kept)


def _is(tok: Token, punct: str) -> bool:
    return tok.kind == "punct" and tok.text == punct


def _assignment_at(toks: list[Token], j: int) -> bool:
    return j + 1 < len(toks) and toks[j].kind in ("word", "quoted") and _is(toks[j + 1], "=")


def _not_literal() -> ClickHouseHTTPError:
    return readonly_refusal(
        "a SETTINGS value must be a literal (a number, a string, true/false or a map of "
        "strings such as {'view': 'filter'})"
    )


def _literal(toks: list[Token], j: int) -> tuple[SettingValue, int]:
    """The literal at toks[j] and the index after it."""
    if j >= len(toks):
        raise _not_literal()
    tok = toks[j]
    if _is(tok, "-") and j + 1 < len(toks) and toks[j + 1].kind == "number":
        value = _number(toks[j + 1].text)
        return -value, j + 2
    if tok.kind == "number":
        return _number(tok.text), j + 1
    if tok.kind == "string":
        return tok.text, j + 1
    if tok.kind == "word" and tok.text.lower() in ("true", "false"):
        return tok.text.lower() == "true", j + 1
    if _is(tok, "{"):
        pairs: list[tuple[str, str]] = []
        j += 1
        while j < len(toks) and not _is(toks[j], "}"):
            if pairs:
                if not _is(toks[j], ","):
                    raise _not_literal()
                j += 1
            if not (j + 2 < len(toks) and toks[j].kind == "string" and _is(toks[j + 1], ":")
                    and toks[j + 2].kind == "string"):  # fmt: skip
                raise _not_literal()
            pairs.append((toks[j].text, toks[j + 2].text))
            j += 3
        if j >= len(toks):
            raise _not_literal()
        return tuple(pairs), j + 1
    raise _not_literal()


def _number(text: str) -> int | float:
    if not _NUMBER.match(text):
        raise _not_literal()
    value = float(text)
    return int(value) if value.is_integer() else value


def check_query_settings(
    kind: str, found: bool, pairs: list[tuple[str, SettingValue]], grant: Grant, limits: Limits
) -> QuerySettings:
    """A reader's SETTINGS clauses: the limits only lowered (a positive value
    at most the store's; 0 would mean none), the overflow modes as the store
    sets them, answer-shaping settings as in the URL, and
    additional_table_filters on views of the reports database (the filters
    themselves are checked by ClickHouse's parser, `check_filter_ast`).
    Anything else is refused as ClickHouse refuses it in readonly mode."""
    if pairs and kind != "select":
        raise readonly_refusal(
            "Cannot modify settings in readonly mode: a sql_reader token's SETTINGS clause is "
            "read in SELECT only; send settings as URL parameters"
        )
    seen: dict[str, SettingValue] = {}
    out: list[tuple[str, str]] = []
    filters: tuple[tuple[str, str], ...] = ()
    ceiling = dict(zip(LIMIT_SETTINGS, (limits.max_rows, limits.max_seconds, limits.max_memory),
                       strict=True))  # fmt: skip
    for name, value in pairs:
        if name in seen:
            if seen[name] != value:
                raise readonly_refusal(
                    f"Cannot modify '{name[:64]}' setting in readonly mode: it is set twice "
                    "with different values; give each setting one value"
                )
            continue
        seen[name] = value
        if name in FILE_SETTINGS:
            raise denied(f"the setting {name} names a file on the store's host; it is not served")
        if name in ceiling:
            top = ceiling[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= top:
                raise readonly_refusal(
                    f"Cannot modify '{name}' setting in readonly mode: a sql_reader token may "
                    f"lower it to a whole number from 1 to {top}, never raise it (0 means no "
                    "limit)"
                )
            out.append((name, str(value)))
        elif name in _OVERFLOW_SETTINGS:
            if value != "throw":
                raise readonly_refusal(
                    f"Cannot modify '{name}' setting in readonly mode: it stays 'throw' for a "
                    "sql_reader token"
                )
        elif name == FILTERS:
            filters = _filters(value, grant)
            out.append((name, filters_literal(filters)))
        elif name != "readonly" and (
            name in _READER_SETTINGS or name.startswith(_READER_SETTING_PREFIXES)
        ):
            out.append((name, _sql_literal(value)))
        else:
            raise readonly_refusal(
                f"Cannot modify '{name[:64]}' setting in readonly mode: a sql_reader token may "
                "lower max_result_rows, max_execution_time and max_memory_usage, narrow the "
                "reports views with additional_table_filters, and set output and format "
                "settings"
            )
    return QuerySettings(tuple(out), filters, found)


def _sql_literal(value: SettingValue) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return quote_string(value)
    raise _not_literal()


def filters_literal(filters: tuple[tuple[str, str], ...]) -> str:
    return "{" + ", ".join(f"{quote_string(k)}: {quote_string(v)}" for k, v in filters) + "}"


def _filters(value: SettingValue, grant: Grant) -> tuple[tuple[str, str], ...]:
    """additional_table_filters of a reader: each key a view of the reports
    database (`view` or `<reports>.view`: a bare name is looked up in the
    session's database, which is the reports one), each filter an expression
    that cannot reach out of its parentheses. Whether the view exists and what
    the expression calls is checked on the engine (`filter_tables`,
    `check_filter_ast`)."""
    if not isinstance(value, tuple):
        raise readonly_refusal(
            f"Cannot modify '{FILTERS}' setting in readonly mode: give a map such as "
            "{'view': 'column = value'}"
        )
    for key, expression in value:
        db, dot, table = key.rpartition(".")
        if not _SETTING_NAME.match(table) or (dot and db != grant.reports):
            raise denied(
                f"{FILTERS} may narrow the views of {grant.reports!r} only, not {key[:96]!r} "
                "(the store's own filters on system tables stay as they are)"
            )
        check_filter_text(expression)
    return value


def filter_tables(filters: tuple[tuple[str, str], ...]) -> set[str]:
    """The views the filters name, without their database."""
    return {key.rpartition(".")[2] for key, _ in filters}


def check_filter_text(expression: str) -> None:
    """A filter is one expression: no statement separator and parentheses that
    never close more than they open, so that `(\n<filter>\n)` holds it whole
    when ClickHouse's parser reads it for `check_filter_ast`."""
    if len(expression) > _FILTER_MAX or not expression.strip():
        raise denied(f"a filter of {FILTERS} is an expression of 1 to {_FILTER_MAX} characters")
    depth = 0
    for tok in tokens(expression):
        if _is(tok, ";"):
            raise denied(f"a filter of {FILTERS} is one expression, without ';'")
        depth += _is(tok, "(") - _is(tok, ")")
        if depth < 0:
            break
    if depth != 0:
        raise denied(f"the parentheses of a filter of {FILTERS} do not match")


# What a filter's parse may hold besides expressions: the one SELECT it is
# wrapped in, never a subquery, a table or a SETTINGS clause of its own.
_FILTER_NODES_DENIED = frozenset({
    "Subquery", "TableExpression", "TableIdentifier", "TablesInSelectQuery",
    "TablesInSelectQueryElement", "TableJoin", "ArrayJoin", "Set", "Asterisk",
    "QualifiedAsterisk", "ColumnsRegexpMatcher", "ColumnsListMatcher",
})  # fmt: skip


def check_filter_ast(tree: str, grant: Grant, databases: set[str]) -> None:
    """EXPLAIN AST of `SELECT 1 WHERE (\n<filter>\n)`: the filter may call
    what a reader's query may call, read no table (no subquery, no table
    function, no `x IN db.t` outside the reports database) and name no system
    table."""
    nodes = ast_nodes(tree)
    kinds = [kind for _, kind, _ in nodes]
    bad = next((k for k in kinds if k in _FILTER_NODES_DENIED), None)
    if (
        bad is not None
        or kinds.count("SelectQuery") != 1
        or kinds.count("SelectWithUnionQuery") != 1
    ):
        raise denied(
            f"a filter of {FILTERS} is an expression on the view's columns: no subqueries, "
            "tables or table functions"
        )
    check_ast(tree, grant, databases, system=False)


def names_system_settings(stmt: Statement) -> bool:
    """A statement that names system.settings: clickhouse-connect reads it at
    connect to learn which settings it may send (see the engine)."""
    return any(
        db.lower() == "system" and table.lower() == "settings" for db, table in stmt.qualified
    )
