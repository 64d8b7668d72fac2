"""The reader's gate on ClickHouse's parser tree (policy.check_ast) and what a
reader is told when the engine fails (policy.reader_error): pure functions over
EXPLAIN AST text as chDB 4.4 prints it."""

from __future__ import annotations

import pytest

from core.errors import ClickHouseHTTPError
from web.chhttp.policy import (
    READER,
    Grant,
    Limits,
    ast_nodes,
    check_ast,
    check_reader_words,
    reader_error,
)
from web.chhttp.reader_settings import (
    session_settings,
)
from web.chhttp.sql import classify

READ = Grant(READER, "grafana", "sf", "sf_reports")
DATABASES = {"default", "system", "information_schema", "sf", "sf_reports", "sf_backfill_7"}
LIMITS = Limits(max_rows=5000, max_seconds=10, max_memory=1 << 30)

# EXPLAIN AST of `SELECT CAST((SELECT any(patient_id) FROM sf.t) AS Enum8('a' = 1))`:
# the shape of issue 15's exfiltration, which the analyzer would have run.
CAST_SCALAR = """SelectWithUnionQuery (children 1)
 ExpressionList (children 1)
  SelectQuery (children 1)
   ExpressionList (children 1)
    Function CAST (children 1)
     ExpressionList (children 2)
      Subquery (children 1)
       SelectWithUnionQuery (children 1)
        ExpressionList (children 1)
         SelectQuery (children 2)
          ExpressionList (children 1)
           Function any (children 1)
            ExpressionList (children 1)
             Identifier patient_id
          TablesInSelectQuery (children 1)
           TablesInSelectQueryElement (children 1)
            TableExpression (children 1)
             TableIdentifier sf.t
      Literal 'Enum8(\\'a\\' = 1)'"""


def _select(*table_expression: str, where: str = "") -> str:
    """A `SELECT * FROM <table expression> [WHERE …]` tree; lines given without
    their indentation below TableExpression (5 spaces)."""
    lines = [
        "SelectWithUnionQuery (children 1)",
        " ExpressionList (children 1)",
        "  SelectQuery (children 2)",
        "   ExpressionList (children 1)",
        "    Asterisk",
        "   TablesInSelectQuery (children 1)",
        "    TablesInSelectQueryElement (children 1)",
        "     TableExpression (children 1)",
        *table_expression,
    ]
    return "\n".join(lines + ([where] if where else []))


def refused(tree: str) -> ClickHouseHTTPError:
    with pytest.raises(ClickHouseHTTPError) as err:
        check_ast(tree, READ, DATABASES)
    return err.value


def test_a_scalar_subquery_over_a_raw_table_is_refused_from_the_parse_alone() -> None:
    err = refused(CAST_SCALAR)
    assert err.code == 497 and "sf.t is outside the reports database" in str(err)
    check_ast(CAST_SCALAR.replace("sf.t", "sf_reports.v"), READ, DATABASES)
    check_ast(CAST_SCALAR.replace("sf.t", "v"), READ, DATABASES)  # the session's database


@pytest.mark.parametrize(
    "tree",
    [
        _select("      TableIdentifier sf.t (alias x)"),
        _select("      TableIdentifier sf_backfill_7.t"),
        _select("      TableIdentifier system.query_log"),
        _select("      TableIdentifier system.processes"),
        _select("      TableIdentifier elsewhere.t"),  # not a database now: fails closed
        _select("      TableIdentifier sf"),  # an unqualified name that is a database's
        _select("      Function merge (children 1)", "       ExpressionList (children 2)"),
        _select("      Function view (children 1)"),
        _select("      Function loop (children 1)", "        Identifier sf.t"),
        _select("      Function mergeTreeIndex (children 1)"),
        _select("      Function file (alias f) (children 1)"),
        _select("      TableIdentifier v", where="   Function in (children 1)\n"
                "    ExpressionList (children 2)\n     Identifier x\n     Identifier sf.t"),
        _select("      TableIdentifier v", where="   Function globalIn (children 1)\n"
                "    ExpressionList (children 2)\n     Identifier x\n"
                "     Identifier system.query_log"),
        _select("      TableIdentifier v", where="   Function joinGet (children 1)"),
        _select("      TableIdentifier v", where="   Function dictGetString (children 1)"),
        _select("      TableIdentifier v", where="   Function hasColumnInTable (children 1)"),
        _select("      TableIdentifier v", where="   Function file (children 1)"),
        "ShowTables (children 1)\n Identifier sf",
        "ExistsTableQuery sf t (children 2)\n Identifier sf\n Identifier t",
        "ShowCreateTableQuery sf t (children 2)\n Identifier sf\n Identifier t",
        "DescribeQuery (children 1)\n TableExpression (children 1)\n  TableIdentifier sf.t",
    ],
)  # fmt: skip
def test_names_outside_the_reports_database_and_reaching_functions_are_refused(
    tree: str,
) -> None:
    assert refused(tree).code == 497


@pytest.mark.parametrize(
    "tree",
    [
        _select("      TableIdentifier sf_reports.calls_per_day (alias c)"),
        _select("      TableIdentifier system.one"),
        _select("      TableIdentifier INFORMATION_SCHEMA.TABLES"),
        _select("      Function numbers (alias n) (children 1)"),
        _select("      TableIdentifier v", where="   Function in (children 1)\n"
                "    ExpressionList (children 2)\n     Identifier c.unit_id\n"
                "     Identifier system.one.dummy"),
        "ShowTables (children 1)\n Identifier system",
        "ShowTables",
        "DescribeQuery (children 1)\n TableExpression (children 1)\n  TableIdentifier v",
    ],
)  # fmt: skip
def test_the_reports_database_metadata_and_numbers_pass(tree: str) -> None:
    check_ast(tree, READ, DATABASES)


def test_a_tree_that_does_not_read_as_nodes_is_refused() -> None:
    # `we"ird\n.x`: a quoted name with a line break splits its node over lines
    broken = _select("      TableIdentifier v", where='   Identifier we"ird\n.x')
    assert refused(broken).code == 497
    jump = "SelectWithUnionQuery (children 1)\n   TableIdentifier v"
    assert refused(jump).code == 497
    assert refused("SelectWithUnionQuery\nShowTables").code == 497  # a second root
    assert ast_nodes(" ".join(["Function", "numbers", "(alias n)", "(children 1)"])) == [
        (0, "Function", "numbers")
    ]


def test_a_readers_engine_errors_keep_code_and_name_and_say_nothing_of_the_data() -> None:
    err = reader_error(691, "UNKNOWN_ELEMENT_OF_ENUM", 500, LIMITS)
    assert (err.code, err.name, err.status) == (691, "UNKNOWN_ELEMENT_OF_ENUM", 400)
    assert "'" not in str(err) and "UNKNOWN_ELEMENT_OF_ENUM" in str(err)
    memory = reader_error(241, "MEMORY_LIMIT_EXCEEDED", 500, LIMITS)
    assert memory.status == 400 and f"max_memory_usage = {1 << 30}" in str(memory)
    rows = reader_error(396, "TOO_MANY_ROWS_OR_BYTES", 400, LIMITS)
    assert rows.status == 400 and "max_result_rows = 5000" in str(rows)
    assert reader_error(60, "UNKNOWN_TABLE", 404, LIMITS).status == 404
    assert reader_error(1002, "UNKNOWN_EXCEPTION", 500, LIMITS).status == 500


def test_a_readers_memory_is_limited_and_can_only_be_tightened() -> None:
    pairs = dict(session_settings(READ, {}, LIMITS))
    assert pairs["max_memory_usage"] == str(1 << 30)
    tighter = dict(session_settings(READ, {"max_memory_usage": "1000000"}, LIMITS))
    assert tighter["max_memory_usage"] == "1000000"
    looser = dict(session_settings(READ, {"max_memory_usage": str(1 << 40)}, LIMITS))
    assert looser["max_memory_usage"] == str(1 << 30)


@pytest.mark.parametrize(
    "query",
    [b"SHOW COLUMNS FROM t FROM sf", b"SHOW INDEX FROM t IN `sf`", b"SHOW FIELDS FROM t FROM SF",
     b"EXISTS DATABASE sf_backfill_7", b"SHOW CREATE DATABASE sf"],
)  # fmt: skip
def test_show_and_exists_may_not_name_a_statflow_database_in_any_word(query: bytes) -> None:
    # EXPLAIN AST prints these as a bare `ShowColumns` / `ShowIndexes`
    with pytest.raises(ClickHouseHTTPError) as err:
        check_reader_words([classify(query)], READ, DATABASES)
    assert err.value.code == 497
    check_reader_words([classify(b"SHOW COLUMNS FROM calls_per_day")], READ, DATABASES)
    check_reader_words([classify(b"SHOW TABLES FROM system")], READ, DATABASES)
    check_reader_words([classify(b"SELECT sf FROM v")], READ, DATABASES)  # checked on its tree
