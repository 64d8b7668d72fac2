"""Who may run what on the ClickHouse HTTP interface (sinks/chhttp/policy.py)."""

from __future__ import annotations

import pytest

from core.errors import ClickHouseHTTPError
from web.chhttp.policy import (
    READER,
    SERVICE,
    Grant,
    Limits,
    check_databases,
    check_query_tree,
    check_statement,
    grant_for,
    session_database,
)
from web.chhttp.reader_settings import (
    session_settings,
)
from web.chhttp.sql import classify

READ = Grant(READER, "grafana", "sf", "sf_reports")
SVC = Grant(SERVICE, "worker", "sf", "sf_reports")
LIMITS = Limits(max_rows=5000, max_seconds=10)
KNOWN = {"default", "system", "sf", "sf_reports", "sf_backfill_7", "other"}

# EXPLAIN QUERY TREE of `SELECT a, (SELECT count() FROM sf.t) FROM sf_reports.v
# WHERE a IN sf.one`, as chDB 4.4 prints it (trimmed): the scalar subquery is
# folded to a constant but keeps the expression it came from.
TREE = """QUERY id: 0
  PROJECTION
    LIST id: 1, nodes: 2
      COLUMN id: 2, column_name: a, result_type: UInt32, source_id: 3
      CONSTANT id: 4, constant_value: UInt64_1, constant_value_type: Nullable(UInt64)
        EXPRESSION
          QUERY id: 5, is_subquery: 1
            PROJECTION
              LIST id: 6, nodes: 1
                FUNCTION id: 7, function_name: count, function_type: aggregate, result_type: UInt64
            JOIN TREE
              TABLE id: 8, table_name: sf.t
  JOIN TREE
    TABLE id: 3, alias: __table1, table_name: sf_reports.v
  WHERE
    FUNCTION id: 21, function_name: in, function_type: ordinary, result_type: UInt8
      ARGUMENTS
        LIST id: 22, nodes: 2
          COLUMN id: 2, column_name: a, result_type: UInt32, source_id: 3
          TABLE id: 23, alias: __table4, table_name: sf.one
"""


def refused(fn: object, *args: object) -> ClickHouseHTTPError:
    with pytest.raises(ClickHouseHTTPError) as err:
        fn(*args)  # type: ignore[operator]
    return err.value


def test_the_strongest_sql_role_of_a_token_counts() -> None:
    assert grant_for("w", ("sql_reader", "service"), "sf", "sf_reports").role == SERVICE
    assert grant_for("g", ("operator", "sql_reader"), "sf", "sf_reports").role == READER
    err = refused(grant_for, "x", ("operator",), "sf", "sf_reports")
    assert err.code == 497 and "statflow token --role sql_reader" in str(err)


@pytest.mark.parametrize(
    "query",
    [b"SELECT * FROM v", b"SHOW TABLES", b"SHOW FULL TABLES", b"DESCRIBE v", b"EXISTS v"],
)
def test_readers_read(query: bytes) -> None:
    check_statement(classify(query), READ, "POST")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (b"INSERT INTO v VALUES (1)", 164),
        (b"CREATE TABLE x (a UInt8) ENGINE = Memory", 164),
        (b"/* SELECT */ DROP TABLE sf.t", 164),
        (b"EXPLAIN QUERY TREE SELECT 1", 164),  # folds scalar subqueries into its output
        (b"SET readonly = 0", 164),
        (b"SHOW PROCESSLIST", 497),
        (b"SHOW FULL PROCESSLIST", 497),
        (b"SELECT dictGetOrDefault('sf.d', 'a', 1, '')", 497),
        (b"SELECT joinGet('sf.j', 'a', 1)", 497),
        (b"SELECT * FROM file('/etc/passwd', 'LineAsString')", 497),
        (b"SELECT `file`('/etc/hostname')", 497),
        (b"SELECT * FROM remote('127.0.0.1', sf.t)", 497),
        (b"SELECT 1 INTO OUTFILE '/tmp/x'", 497),
        (b"SELECT 1 FORMAT Template SETTINGS format_template_resultset = '/etc/hostname'", 497),
    ],
)
def test_readers_are_refused_writes_and_reaching_out(query: bytes, code: int) -> None:
    assert refused(check_statement, classify(query), READ, "POST").code == code


@pytest.mark.parametrize(
    "query",
    [
        b"SYSTEM FLUSH LOGS",
        b"SET max_threads = 1",
        b"USE other",
        b"GRANT SELECT ON *.* TO x",
        b"BACKUP TABLE t TO Disk('d', 'x')",
        b"INSERT INTO t SELECT * FROM url('http://x', CSV)",
        b"INSERT INTO t FROM INFILE '/etc/passwd' FORMAT LineAsString",
        b"INSERT INTO FUNCTION remote('h', d.t) VALUES (1)",
        b"SELECT 1 SETTINGS input_format_record_errors_file_path = '/tmp/x'",
        b"CREATE TABLE t (a String) ENGINE = File(LineAsString, '/etc/passwd')",
        b"CREATE TABLE t (a String) ENGINE = Merge('other', '.*')",
        b"CREATE DICTIONARY d (k UInt64, v String) PRIMARY KEY k "
        b"SOURCE(HTTP(url 'http://x' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)",
        b"CREATE OR REPLACE FUNCTION f AS (x) -> x",
        b"CREATE USER u",
        b"DROP NAMED COLLECTION c",
    ],
)
def test_service_tokens_run_reads_inserts_and_ddl_only(query: bytes) -> None:
    assert refused(check_statement, classify(query), SVC, "POST").code == 497


def test_service_tokens_run_statflows_ddl() -> None:
    for q in (
        b"CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = MergeTree ORDER BY a",
        b"CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO t AS SELECT 1 AS a",
        b"CREATE OR REPLACE VIEW v AS SELECT 1",
        b"ALTER TABLE t ADD COLUMN IF NOT EXISTS b String DEFAULT ''",
        b"DROP TABLE IF EXISTS t",
        b"TRUNCATE TABLE t",
        b"EXCHANGE TABLES sf.t AND sf_backfill_1.t",
        b"OPTIMIZE TABLE t FINAL",
        b"CREATE TABLE s (k String) ENGINE = EmbeddedRocksDB PRIMARY KEY k",
    ):
        check_statement(classify(q), SVC, "POST")


def test_get_implies_readonly_like_clickhouse() -> None:
    check_statement(classify(b"SELECT 1"), SVC, "GET")
    err = refused(check_statement, classify(b"INSERT INTO t VALUES (1)"), SVC, "GET")
    assert err.code == 164 and "method GET implies readonly" in str(err)


def test_service_tokens_stay_in_statflows_databases() -> None:
    ok = [
        b"CREATE DATABASE IF NOT EXISTS sf_reports",
        b"CREATE VIEW sf_reports.v AS SELECT * FROM sf.t",
        b"EXCHANGE TABLES sf.t AND sf_backfill_7.t",
        b"SELECT t.a FROM sf.t AS t",  # `t.a` is a column: no database `t`
        b"SELECT name FROM system.tables",
        b"INSERT INTO t SELECT * FROM sf.u",
    ]
    for q in ok:
        check_databases([classify(q)], SVC, KNOWN)
    for q in (
        b"SELECT * FROM other.t",
        b"CREATE DATABASE brand_new",
        b"DROP DATABASE default",
        b"INSERT INTO system.query_log SELECT * FROM sf.t",
        b"ALTER TABLE system.settings DELETE WHERE 1",
    ):
        assert refused(check_databases, [classify(q)], SVC, KNOWN).code == 497


def test_readers_describe_only_the_reports_database() -> None:
    check_databases([classify(b"DESCRIBE sf_reports.v")], READ, KNOWN)
    check_databases([classify(b"SHOW CREATE TABLE system.one")], READ, KNOWN)
    for q in (b"DESCRIBE sf.sob_transactions", b"SHOW CREATE DATABASE sf", b"EXISTS other.t"):
        assert refused(check_databases, [classify(q)], READ, KNOWN).code == 497


def test_the_session_database_is_the_roles() -> None:
    assert session_database(READ, None) == "sf_reports"
    assert session_database(READ, "default") == "sf_reports"
    assert refused(session_database, READ, "sf").code == 497
    assert session_database(SVC, None) == "sf"
    assert session_database(SVC, "sf_w2") == "sf_w2"
    assert refused(session_database, SVC, "other").code == 497
    assert refused(session_database, SVC, "sf_`; DROP").code == 497


def test_a_readers_limits_follow_its_settings_and_can_only_tighten() -> None:
    pairs = session_settings(
        READ,
        {"output_format_json_quote_64bit_integers": "0", "max_result_rows": "0",
         "max_execution_time": "3600", "readonly": "0"},
        LIMITS,
    )  # fmt: skip
    names = [n for n, _ in pairs]
    assert names.index("output_format_json_quote_64bit_integers") < names.index("max_result_rows")
    values = dict(pairs)
    assert values["max_result_rows"] == "5000" and values["max_execution_time"] == "10"
    assert values["result_overflow_mode"] == "'throw'"
    assert "readonly" not in values  # the engine sets it last, on its own
    assert "'system.tables': 'database = \\'sf_reports\\''" in values["additional_table_filters"]
    tighter = dict(session_settings(READ, {"max_result_rows": "10"}, LIMITS))
    assert tighter["max_result_rows"] == "10"


def test_readers_may_not_set_what_decides_what_they_read() -> None:
    for name in ("additional_table_filters", "allow_introspection_functions", "max_threads"):
        err = refused(session_settings, READ, {name: "1"}, LIMITS)
        assert err.code == 164 and name in str(err)
    for role in (READ, SVC):  # read or write files on the host
        for name in ("format_template_resultset", "format_schema", "output_format_schema"):
            assert refused(session_settings, role, {name: "/etc/hostname"}, LIMITS).code == 497
    assert refused(session_settings, READ, {"max_result_rows": "lots"}, LIMITS).code == 72
    assert refused(session_settings, SVC, {"bad name": "1"}, LIMITS).code == 115


def test_service_settings_pass_through_quoted() -> None:
    pairs = session_settings(SVC, {"insert_deduplication_token": "a'b"}, LIMITS)
    assert ("insert_deduplication_token", "'a\\'b'") in pairs
    assert ("enable_http_compression", "1") in pairs


def test_a_readers_query_tree_may_name_the_reports_database_only() -> None:
    err = refused(check_query_tree, TREE, READ)
    assert err.code == 497 and "sf.t is outside the reports database" in str(err)
    ok = "\n".join(
        line for line in TREE.splitlines() if "sf.t" not in line and "sf.one" not in line
    )
    check_query_tree(ok + "\n    TABLE id: 9, table_name: system.one", READ)
    for line in (
        "TABLE id: 1, table_name: system.query_log",
        "TABLE id: 1, table_name: sf_reports_x.v",
        "TABLE id: 1, table_name:",
        "TABLE_FUNCTION id: 3, alias: __table1, table_function_name: merge",
        "TABLE_FUNCTION id: 3, alias: __table1, table_function_name: view",
        "FUNCTION id: 3, function_name: file, function_type: ordinary, result_type: String",
        "FUNCTION id: 3, function_name: dictGet, function_type: ordinary, result_type: String",
    ):
        assert refused(check_query_tree, line, READ).code == 497, line
    check_query_tree("TABLE_FUNCTION id: 5, alias: __table3, table_function_name: numbers", READ)
