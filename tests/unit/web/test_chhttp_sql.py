"""The ClickHouse HTTP interface's lexer: what a statement is, where its data
starts, and what comments and literals must not hide (sinks/chhttp/sql.py)."""

from __future__ import annotations

import pytest

from core.errors import ClickHouseHTTPError
from web.chhttp.sql import classify, escape_param, infile_insert, quote_string, without_format


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        (b"SELECT 1", "select"),
        (b"  with 1 AS x select x", "select"),
        (b"(SELECT 1) UNION ALL (SELECT 2)", "select"),
        (b"DESC t", "describe"),
        (b"SHOW TABLES", "show"),
        (b"EXISTS TABLE t", "exists"),
        (b"EXPLAIN SELECT 1", "explain"),
        (b"INSERT INTO t VALUES (1)", "insert"),
        (b"CREATE TABLE t (a UInt8) ENGINE = Memory", "ddl"),
        (b"EXCHANGE TABLES a.t AND b.t", "ddl"),
        (b"SET max_threads = 1", "other"),
        (b"SYSTEM FLUSH LOGS", "other"),
        (b"KILL QUERY WHERE 1", "other"),
        # a comment in front says nothing about the statement
        (b"/* SELECT */ DROP TABLE t", "ddl"),
        (b"-- SELECT\nDROP TABLE t", "ddl"),
        (b"#! SELECT\nTRUNCATE TABLE t", "ddl"),
        (b"`SELECT` 1", "other"),  # a quoted name is never a keyword
        (b"`DROP`", "other"),
    ],
)
def test_kind_is_the_first_word_after_comments(query: bytes, kind: str) -> None:
    assert classify(query).kind == kind


@pytest.mark.parametrize(
    "query",
    [
        b"SELECT 1; DROP TABLE t",
        b"SELECT 1 -- comment\n; DROP TABLE t",
        b"SELECT 'a'; INSERT INTO t VALUES (1)",
        b"INSERT INTO t VALUES (1); DROP TABLE t",
        b"SELECT 1 /* a */; /* b */ SELECT 2",
    ],
)
def test_a_second_statement_is_refused(query: bytes) -> None:
    with pytest.raises(ClickHouseHTTPError) as err:
        classify(query)
    assert err.value.code == 62 and "Multi-statements" in str(err.value)


@pytest.mark.parametrize(
    "query",
    [
        b"SELECT 1;",
        b"SELECT 1;;  ",
        b"SELECT 1; -- trailing comment",
        b"SELECT 'a;b', \"c;d\", `e;f`",
        b"SELECT 'it\\'s; DROP TABLE t'",
        b"SELECT 'it''s; DROP TABLE t'",
        b"SELECT $$a; DROP TABLE t$$, $tag$b;c$tag$",
        b"SELECT /* /* nested; */ still a comment; */ 1",
        b"SELECT 1 # a comment; DROP TABLE t",
    ],
)
def test_semicolons_inside_literals_and_comments_end_nothing(query: bytes) -> None:
    stmt = classify(query)
    assert stmt.kind == "select"
    assert stmt.text.startswith("SELECT") and not stmt.text.endswith(";")


@pytest.mark.parametrize(
    "query", [b"", b"  -- nothing\n", b"SELECT 'open", b"SELECT /* open", b"SELECT 1 #x", b")"]
)
def test_broken_or_empty_statements_are_syntax_errors(query: bytes) -> None:
    with pytest.raises(ClickHouseHTTPError) as err:
        classify(query)
    assert err.value.code == 62 and err.value.status == 400


def test_a_query_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(ClickHouseHTTPError) as err:
        classify(b"SELECT '\xff'")
    assert "UTF-8" in str(err.value)


def test_insert_data_starts_after_the_format_name_and_one_line_break() -> None:
    data = b"\x00\x01'; DROP TABLE t; \xff\n"
    raw = b"INSERT INTO db.t (a, `format`) FORMAT Native\n" + data
    stmt = classify(raw)
    assert stmt.kind == "insert" and stmt.insert_format == "Native"
    assert stmt.text == "INSERT INTO db.t (a, `format`) FORMAT Native"
    assert raw[stmt.data_offset :] == data
    crlf = b"INSERT INTO t FORMAT TSV  \r\n1\tx\n"
    assert crlf[classify(crlf).data_offset :] == b"1\tx\n"
    empty = b"INSERT INTO t FORMAT Native"
    assert empty[classify(empty).data_offset :] == b""


def test_infile_goes_before_the_settings_of_an_insert() -> None:
    stmt = classify(b"INSERT INTO t (\xc3\xa4) SETTINGS async_insert = 0 FORMAT RowBinary\n\x01")
    assert infile_insert(stmt, "/tmp/x'y") == (
        "INSERT INTO t (ä) FROM INFILE '/tmp/x\\'y' SETTINGS async_insert = 0 FORMAT RowBinary"
    )
    plain = classify(b"INSERT INTO t FORMAT CSV\n1,2\n")
    assert infile_insert(plain, "/f") == "INSERT INTO t FROM INFILE '/f' FORMAT CSV"
    with pytest.raises(ValueError):
        infile_insert(classify(b"INSERT INTO t VALUES (1)"), "/f")


def test_values_and_select_inserts_run_as_written() -> None:
    for raw in (b"INSERT INTO t VALUES (1, 'FORMAT Native')", b"INSERT INTO t SELECT 1"):
        stmt = classify(raw)
        assert stmt.insert_format is None and stmt.data_offset is None
        assert stmt.text == raw.decode()


def test_the_output_format_is_the_last_clause_only() -> None:
    stmt = classify("  SELECT 'ä' AS x FORMAT JSON SETTINGS max_threads = 1;".encode())
    assert stmt.output_format == "JSON"
    assert without_format(stmt) == "SELECT 'ä' AS x  SETTINGS max_threads = 1"
    assert classify(b"SELECT x AS format FROM t").output_format is None
    assert classify(b"SELECT format FROM t FORMAT CSV").output_format == "CSV"
    assert classify(b"SELECT 1 -- FORMAT JSON").output_format is None


def test_calls_qualified_names_databases_and_file_clauses_are_found() -> None:
    stmt = classify(b"SELECT `file`('/etc/passwd'), URL('x'), a.b.c FROM db.t, \"o\".`p`")
    assert {"file", "url"} <= stmt.calls
    assert stmt.qualified == (("a", "b"), ("db", "t"), ("o", "p"))
    assert classify(b"SELECT 1 INTO OUTFILE 'x'").outfile
    assert classify(b"INSERT INTO t FROM INFILE '/etc/passwd' FORMAT CSV").infile
    assert classify(b"INSERT INTO FUNCTION file('x') VALUES (1)").into_function
    assert classify(b"CREATE DATABASE IF NOT EXISTS `x_y`").databases == ("x_y",)
    assert classify(b"SELECT 'file(' FROM t").calls == frozenset()


def test_parameters_and_strings_are_escaped() -> None:
    assert escape_param("a\\b\nc\td\r\0") == "a\\\\b\\nc\\td\\r\\0"
    assert quote_string("it's \\") == "'it\\'s \\\\'"
