"""A reader's SETTINGS clause and additional_table_filters (issue 19,
"Downstream clients"): the pure checks of web/chhttp/reader_settings.py."""

from __future__ import annotations

import pytest

from core.errors import ClickHouseHTTPError
from web.chhttp.policy import (
    READER,
    Grant,
    Limits,
)
from web.chhttp.reader_settings import (
    QuerySettings,
    check_filter_ast,
    check_filter_text,
    check_query_settings,
    names_system_settings,
    settings_clauses,
    without_limits,
)
from web.chhttp.sql import classify

READ = Grant(READER, "grafana", "sf", "sf_reports")
LIMITS = Limits(max_rows=5000, max_seconds=10)
DATABASES = {"default", "system", "sf", "sf_reports", "information_schema"}

# EXPLAIN AST of `SELECT 1 WHERE (\nunit_id = 'x' AND calls > 1\n)`, as chDB 4.4 prints it.
FILTER_AST = """SelectWithUnionQuery (children 1)
 ExpressionList (children 1)
  SelectQuery (children 2)
   ExpressionList (children 1)
    Literal UInt64_1
   Function and (children 1)
    ExpressionList (children 2)
     Function equals (children 1)
      ExpressionList (children 2)
       Identifier unit_id
       Literal 'x'
     Function greater (children 1)
      ExpressionList (children 2)
       Identifier calls
       Literal UInt64_1"""


def refused(fn: object, *args: object) -> ClickHouseHTTPError:
    with pytest.raises(ClickHouseHTTPError) as err:
        fn(*args)  # type: ignore[operator]
    return err.value


def asked(text: str) -> QuerySettings:
    found, pairs, _ = settings_clauses(text)
    return check_query_settings(classify(text.encode()).kind, found, pairs, READ, LIMITS)


def test_settings_clauses_are_read_as_clickhouse_reads_them() -> None:
    found, pairs, plain = settings_clauses(
        "SELECT a FROM t WHERE b = 'SETTINGS x = 1' /* SETTINGS y = 2 */ "
        "SETTINGS max_result_rows = 10, additional_table_filters = {'t': 'a = \\'x\\''}, "
        "extremes = true FORMAT JSON"
    )
    assert found
    assert pairs == [("max_result_rows", 10), ("additional_table_filters", (("t", "a = 'x'"),)),
                     ("extremes", True)]  # fmt: skip
    assert "SETTINGS max_result_rows" not in plain and plain.endswith("FORMAT JSON")
    assert settings_clauses("SELECT name FROM system.settings") == (
        False, [], "SELECT name FROM system.settings",
    )  # fmt: skip
    # a `--` comment before a clause still ends there: nothing after it is hidden
    _, _, plain = settings_clauses("SELECT 1 -- c\nSETTINGS max_threads = 1 UNION ALL SELECT 2")
    assert plain.splitlines()[-1].strip() == "UNION ALL SELECT 2"
    for text in ("SELECT 1 SETTINGS max_result_rows = (SELECT 1)",
                 "SELECT 1 SETTINGS max_result_rows = x",
                 "SELECT 1 SETTINGS additional_table_filters = {'t': 1}"):  # fmt: skip
        assert refused(settings_clauses, text).code == 164, text


def test_a_reader_may_lower_limits_in_a_clause_never_raise_them() -> None:
    got = asked("SELECT 1 SETTINGS max_result_rows = 10, max_execution_time = 3")
    assert got.pairs == (("max_result_rows", "10"), ("max_execution_time", "3")) and got.clause
    assert asked("SELECT 1 SETTINGS result_overflow_mode = 'throw'").pairs == ()
    for clause in ("max_result_rows = 5001", "max_result_rows = 0", "max_execution_time = 11",
                   "max_execution_time = -1", "max_memory_usage = 1e15", "max_result_rows = 2.5",
                   "max_result_rows = true", "result_overflow_mode = 'break'", "readonly = 2",
                   "max_threads = 1", "allow_introspection_functions = 1",
                   "max_result_rows = 1, max_result_rows = 2"):  # fmt: skip
        assert refused(asked, f"SELECT 1 SETTINGS {clause}").code == 164, clause
    err = refused(asked, "SELECT 1 SETTINGS format_template_resultset = '/etc/hostname'")
    assert err.code == 497
    assert refused(asked, "SHOW TABLES SETTINGS max_result_rows = 1").code == 164
    shaped = asked("SELECT 1 SETTINGS output_format_json_quote_64bit_integers = 0")
    assert shaped.pairs == (("output_format_json_quote_64bit_integers", "0"),)


def test_additional_table_filters_name_reports_views_only() -> None:
    got = asked("SELECT * FROM v SETTINGS additional_table_filters = "
                "{'v': 'a = 1', 'sf_reports.w': 'b != \\'x\\''}")  # fmt: skip
    assert got.filters == (("v", "a = 1"), ("sf_reports.w", "b != 'x'"))
    assert got.pairs == (("additional_table_filters",
                          "{'v': 'a = 1', 'sf_reports.w': 'b != \\'x\\''}"),)  # fmt: skip
    for key in ("sf.ntjp_calls", "system.tables", "system.databases", "information_schema.tables",
                "default.t", "sf_reports.`x`", "a b", ""):  # fmt: skip
        text = f"SELECT 1 SETTINGS additional_table_filters = {{'{key}': '1'}}"
        assert refused(asked, text).code == 497, key
    assert refused(asked, "SELECT 1 SETTINGS additional_table_filters = 'v'").code == 164


@pytest.mark.parametrize(
    "expression",
    ["1) OR (1", "a = 1; DROP TABLE t", "(a = 1", "", " ", "x" * 5000, "a = 1 /* )"],
)
def test_a_filter_cannot_leave_its_parentheses(expression: str) -> None:
    assert refused(check_filter_text, expression).code in (497, 62)


def test_a_filter_is_an_expression_on_the_views_columns() -> None:
    check_filter_text("unit_id = 'x' AND calls > 1 -- a comment")
    check_filter_ast(FILTER_AST, READ, DATABASES)
    lines = FILTER_AST.splitlines()
    for extra in (
        "       Subquery (children 1)",
        "       TableIdentifier sf_reports.v",
        "       Identifier sf.sob_transactions",
        "       Identifier system.tables",
        "       Identifier information_schema.tables",
        "       Function file (children 1)",
        "       Function dictGet (children 1)",
        "       Set",
    ):
        tree = "\n".join(lines[:10] + [extra] + lines[10:])
        assert refused(check_filter_ast, tree, READ, DATABASES).code == 497, extra


def test_only_a_read_of_system_settings_is_the_settings_probe() -> None:
    probe = classify(b"SELECT name, value, readonly FROM system.settings LIMIT 10000")
    assert names_system_settings(probe)
    assert not names_system_settings(classify(b"SELECT getSetting('readonly')"))
    assert not names_system_settings(classify(b"SELECT * FROM settings"))


def test_the_checking_session_keeps_the_stores_limits() -> None:
    client = {"max_result_rows": "10", "max_result_bytes": "1", "output_format_x": "1"}
    assert without_limits(client) == {"output_format_x": "1"}
