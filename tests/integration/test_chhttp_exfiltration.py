"""Issue 15, item 1: a sql_reader token must not get one value of a raw table
out of the store's ClickHouse HTTP interface, through the answer or through an
error. Distinctive values are planted in statflow's raw tables (a patient's
personal identity number, a practitioner, a staff member's HSA id and name);
every shape of exfiltration below is refused, and none of those values appears
in any answer body or error. Runs on `statflow store` over a real chDB, as
test_clickhouse_http does, with a time limit loose enough for the memory limit
to be what stops a big query on a busy machine."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from tests.integration.test_clickhouse_http import Store, running_store

PATIENT = "193807149871"
PRACTITIONER = "SE2321000016-PLANTPRAC"
STAFF_HSA = "SE2321000016-PLNT42"
GIVEN, FAMILY = "Quilliamina", "Zorbelstrand"
UNIT_SHOWN = "SE-ERRVAL-UNIT-31"  # in a reports view: readable, but never in an error
# Pieces too: an error that quoted part of a value is a leak as well.
PLANTED = (PATIENT, PATIENT[:8], PATIENT[-6:], PRACTITIONER, "PLANTPRAC", STAFF_HSA, "PLNT42",
           GIVEN, FAMILY)  # fmt: skip

PID = "(SELECT any(patient_id) FROM {db}.sob_transactions WHERE patient_id != '')"
PIDS = "(SELECT arrayStringConcat(groupArray(patient_id), ',') FROM {db}.sob_transactions)"
NAME = "(SELECT any(concat(hsa_id, given_name, family_name)) FROM {db}.hsa_persons)"
CORPUS: list[tuple[str, dict[str, str]]] = [
    # issue 15's own requests: the analyzer ran these while resolving names
    ("SELECT CAST((SELECT arrayStringConcat(groupArray(concat(patient_id,'@',care_unit_id)),',') "
     "FROM (SELECT DISTINCT patient_id, care_unit_id FROM {db}.sob_transactions "
     "WHERE patient_id != '')) AS Enum8('a' = 1))", {}),
    (f"SELECT toDate(assumeNotNull({PID}))", {}),
    (f"SELECT toDate(assumeNotNull({NAME}))", {}),
    # scalar subqueries in casts, enums, throwIf, arithmetic, arrays
    (f"SELECT CAST({PIDS} AS Enum16('a' = 1))", {}),
    (f"SELECT CAST({NAME} AS Enum8('a' = 1))", {}),
    (f"SELECT toUInt8({PID})", {}),
    (f"SELECT toDateTime({NAME})", {}),
    (f"SELECT throwIf(1, {PID})", {}),
    (f"SELECT throwIf(length({PID}) > 0)", {}),
    (f"SELECT arrayElement([1], toInt64({PID}))", {}),
    (f"SELECT toDecimal32({PID}, 2)", {}),
    (f"SELECT * FROM calls_per_day LIMIT toUInt64({PID})", {}),
    (f"SELECT day FROM calls_per_day WHERE unit_id = {PID}", {}),
    # executed before the gate, this would answer FUNCTION_THROW_IF_VALUE_IS_NON_ZERO
    ("SELECT (SELECT throwIf(count() > 0, 'ran') FROM {db}.sob_transactions)", {}),
    # the data channel itself, in every clause
    ("SELECT * FROM {db}.sob_transactions", {}),
    ("SELECT given_name, family_name FROM {db}.hsa_persons FORMAT JSON", {}),
    ("SELECT * FROM (SELECT patient_id FROM {db}.sob_transactions)", {}),
    (f"SELECT unit_id FROM calls_per_day ORDER BY {PID}", {}),
    (f"SELECT unit_id FROM calls_per_day PREWHERE unit_id != {NAME}", {}),
    (f"SELECT arrayMap(x -> toDate({PID}), [1])", {}),
    (f"SELECT count() OVER (PARTITION BY {PID}) FROM calls_per_day", {}),
    ("SELECT x FROM calls_per_day ARRAY JOIN "
     "(SELECT groupArray(patient_id) FROM {db}.sob_transactions) AS x", {}),
    (f"SELECT toDate({PID}) FORMAT Null", {}),
    ("SELECT toDate((SELECT any(patient_id) FROM {db}.sob_transactions "
     "WHERE patient_id != $$x$$))", {}),
    # IN, JOIN, UNION, WITH
    ("SELECT * FROM calls_per_day WHERE unit_id IN (SELECT patient_id FROM {db}.sob_transactions)",
     {}),
    ("SELECT 1 IN {db}.sob_transactions", {}),
    ("SELECT unit_id GLOBAL IN {db}.hsa_persons FROM calls_per_day", {}),
    ("SELECT * FROM calls_per_day AS c JOIN {db}.hsa_persons AS p ON 1", {}),
    ("SELECT unit_id FROM calls_per_day UNION ALL SELECT patient_id FROM {db}.sob_transactions",
     {}),
    (f"WITH {PID} AS p SELECT toDate(p)", {}),
    ("WITH p AS (SELECT patient_id FROM {db}.sob_transactions) SELECT * FROM p", {}),
    ("WITH calls_per_day AS (SELECT given_name FROM {db}.hsa_persons) SELECT * FROM calls_per_day",
     {}),
    # functions and table functions that read tables by name
    ("SELECT joinGet('{db}.sob_transactions', 'patient_id', 1)", {}),
    ("SELECT joinGet({db}.sob_transactions, 'patient_id', 1)", {}),
    ("SELECT dictGet('{db}.patients', 'patient_id', 1)", {}),
    ("SELECT dictGetOrDefault('{db}.patients', 'patient_id', 1, '')", {}),
    ("SELECT * FROM merge('{db}', '^sob_')", {}),
    ("SELECT * FROM view(SELECT patient_id FROM {db}.sob_transactions)", {}),
    ("SELECT * FROM loop({db}.hsa_persons) LIMIT 1", {}),
    ("SELECT * FROM mergeTreeIndex('{db}', 'sob_transactions')", {}),
    ("SELECT * FROM remote('127.0.0.1', {db}.sob_transactions)", {}),
    ("SELECT * FROM clusterAllReplicas('default', {db}.sob_transactions)", {}),
    ("SELECT * FROM input('a String')", {}),
    ("SELECT * FROM format(CSV, (SELECT any(patient_id) FROM {db}.sob_transactions))", {}),
    ("SELECT hasColumnInTable('{db}', 'sob_transactions', 'patient_id')", {}),
    # EXPLAIN, DESCRIBE, SHOW, EXISTS: the analyzer runs for these too
    (f"EXPLAIN SYNTAX SELECT {PID}", {}),
    (f"EXPLAIN QUERY TREE SELECT {PID}", {}),
    (f"EXPLAIN PLAN SELECT toDate({PID})", {}),
    (f"DESCRIBE (SELECT CAST({PID} AS Enum8('a' = 1)))", {}),
    ("DESCRIBE TABLE {db}.hsa_persons", {}),
    ("SHOW CREATE TABLE {db}.sob_transactions", {}),
    ("SHOW TABLES FROM {db}", {}),
    ("EXISTS {db}.sob_transactions", {}),
    ("EXISTS DATABASE {db}", {}),
    ("SHOW COLUMNS FROM sob_transactions FROM {db}", {}),
    ("SHOW COLUMNS FROM {db}.hsa_persons", {}),
    ("SHOW DICTIONARIES FROM {db}", {}),
    # settings: the query's own, the URL's, the database
    (f"SELECT toDate({PID}) SETTINGS readonly = 0", {}),
    (f"SELECT toDate({PID}) SETTINGS allow_experimental_analyzer = 0", {}),
    (f"SELECT toDate({PID})", {"readonly": "0"}),
    (f"SELECT toDate({PID})", {"additional_table_filters": "{}"}),
    ("SELECT toDate((SELECT any(patient_id) FROM sob_transactions))", {"database": "{db}"}),
    ("SELECT 1", {"format_template_resultset": "/etc/hostname"}),
    # views and tables of one's own over raw tables; system tables
    ("CREATE VIEW leak AS SELECT patient_id FROM {db}.sob_transactions", {}),
    ("CREATE TEMPORARY TABLE leak AS SELECT patient_id FROM {db}.sob_transactions", {}),
    ("SELECT query FROM system.query_log", {}),
    ("SELECT * FROM system.processes", {}),
    ("SELECT * FROM system.parts", {}),
    ("SELECT 1 IN system.query_log", {}),
    # quoting, comments, parameters, escapes
    ("SELECT toDate((SELECT any(patient_id) FROM `{db}`.`sob_transactions`))", {}),
    ('SELECT toDate((SELECT any(patient_id) FROM "{db}"."sob_transactions"))', {}),
    ("SELECT toDate((SELECT any(patient_id) FROM {db} . /* */ sob_transactions))", {}),
    ("SELECT toDate((SELECT any(patient_id) FROM `{db}.sob_transactions`))", {}),
    ("SELECT toDate((SELECT any(patient_id) FROM {esc}.sob_transactions))", {}),
    ("SELECT /* ; */ toDate((SELECT any(patient_id) -- )\n FROM {db}.sob_transactions))", {}),
    ("SELECT toDate((SELECT any(patient_id) #! )\n FROM {db}.sob_transactions))", {}),
    ("SELECT toDate((SELECT any(patient_id) FROM {db}.`sob_transactions` AS `a\nb`))", {}),
    ("SELECT toDate((SELECT any(patient_id) FROM {{d:Identifier}}.sob_transactions))",
     {"param_d": "{db}"}),
    ("SELECT toDate((SELECT any(patient_id) FROM {{t:Identifier}}))",
     {"param_t": "{db}.sob_transactions"}),
    ("SELECT toDate((SELECT any(given_name) FROM {{t:Identifier}}))",
     {"param_t": "{db}.hsa_persons"}),
]  # fmt: skip
# Refusals: ACCESS_DENIED, READONLY, SETTING_CONSTRAINT_VIOLATION.
REFUSED = {"497", "164", "452"}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with running_store(tmp_path_factory.mktemp("exfil"), max_seconds=60) as store:
        _plant(store)
        yield store


def _plant(store: Store) -> None:
    svc = store.client(store.service, database=store.db)
    at = dt.datetime(2025, 3, 3, 9, 30, tzinfo=dt.UTC)
    sob: dict[str, list[Any]] = {
        "event_id": ["p1"], "occurred_at": [at], "case_id": ["case-p1"], "case_type": ["Process"],
        "status": ["Inprogress"], "process_name": ["KBT"], "moment_name": ["Start"],
        "care_provider_id": ["SE1-CP"], "care_unit_id": ["SE1-U1"],
        "practitioner_id": [PRACTITIONER], "patient_id": [PATIENT], "patient_gender": ["F"],
        "patient_age": [40], "closing_reason": [""], "source_partition": [0], "source_offset": [7],
    }  # fmt: skip
    svc.insert("sob_transactions", list(sob.values()), column_names=list(sob),
               column_oriented=True)  # fmt: skip
    svc.insert("hsa_persons", [[STAFF_HSA], [GIVEN], [FAMILY], ["SE1-CP"], [0], [1]],
               column_names=["hsa_id", "given_name", "family_name", "care_provider_id",
                             "deleted", "version"], column_oriented=True)  # fmt: skip
    svc.insert("ntjp_calls", [["e1"], [at], ["MakeBooking"], [UNIT_SHOWN], [""], ["ok"], ["01"],
               [0], [9]], column_names=["event_id", "occurred_at", "operation",
               "logical_address", "consumer_id", "status", "county_at_ingest",
               "source_partition", "source_offset"], column_oriented=True)  # fmt: skip
    assert svc.query("SELECT count() FROM sob_transactions WHERE patient_id = {p:String}",
                     parameters={"p": PATIENT}).result_rows == [(1,)]  # fmt: skip


def _post(store: Store, query: str, params: dict[str, str]) -> httpx.Response:
    db = store.db
    esc = f"`\\x{ord(db[0]):02x}{db[1:]}`"  # the database's name with its first byte escaped
    text = query.format(db=db, esc=esc)
    url_params = {k: v.replace("{db}", db) for k, v in params.items()}
    return httpx.post(store.url, params=url_params, content=text.encode(),
                      auth=("grafana", store.reader), timeout=30)  # fmt: skip


def _leaks(body: str) -> list[str]:
    return [value for value in PLANTED if value.lower() in body.lower()]


@pytest.mark.parametrize(("query", "params"), CORPUS)
def test_every_shape_of_exfiltration_is_refused_and_leaks_nothing(
    planted: Store, query: str, params: dict[str, str]
) -> None:
    r = _post(planted, query, params)
    assert not _leaks(r.text), (r.status_code, r.text)
    assert r.status_code in (400, 403, 404), r.text
    assert r.headers.get("x-clickhouse-exception-code") in REFUSED, r.text


def test_a_readers_engine_errors_keep_code_and_name_but_quote_no_data(planted: Store) -> None:
    r = _post(planted, "SELECT toDate(unit_id) FROM calls_per_day", {})
    assert r.status_code == 400 and r.headers["x-clickhouse-exception-code"] != "497"
    code = r.headers["x-clickhouse-exception-code"]
    assert r.text.startswith(f"Code: {code}. DB::Exception: ") and "ERRVAL" not in r.text
    r = _post(planted, "SELECT CAST(unit_id AS Enum8('a' = 1)) FROM calls_per_day", {})
    assert "UNKNOWN_ELEMENT_OF_ENUM" in r.text and "ERRVAL" not in r.text
    assert r.status_code == 400 and r.headers["x-clickhouse-exception-code"] == "691"
    # what the reader may read, it still reads
    ok = _post(planted, "SELECT unit_id FROM calls_per_day WHERE unit_id LIKE 'SE-ERRVAL%'", {})
    assert ok.status_code == 200 and ok.text == f"{UNIT_SHOWN}\n"


def test_a_readers_memory_is_limited_with_a_clear_refusal(planted: Store) -> None:
    r = _post(planted, "SELECT length(groupArray(number)) FROM numbers(50000000)", {})
    assert r.status_code == 400 and r.headers["x-clickhouse-exception-code"] == "241"
    assert "MEMORY_LIMIT_EXCEEDED" in r.text and f"max_memory_usage = {1 << 30}" in r.text
    r = _post(planted, "SELECT getSetting('max_memory_usage')", {"max_memory_usage": str(1 << 40)})
    assert r.text == f"{1 << 30}\n"  # a reader may lower the limit, never raise it


def test_nothing_planted_comes_out_of_the_reports_views(planted: Store) -> None:
    names = _post(planted, "SELECT name FROM system.tables", {}).text.split()
    assert names
    # system.tables is the reports database's only, DDL of raw tables included
    raw = _post(planted, "SELECT create_table_query FROM system.tables WHERE database = '{db}'", {})
    assert raw.status_code == 200 and raw.text == ""
    for view in names:
        r = _post(planted, f"SELECT * FROM {view} FORMAT CSV", {})
        assert r.status_code == 200 and not _leaks(r.text), view


def test_no_per_unit_counts_of_support_and_treatment_reach_a_reader(planted: Store) -> None:
    """Issue 15 item 5: moments per day and unit (a count of 1 is one patient's
    treatment) are not held to the open tier's rule in free SQL, so the reports
    database has none (migration 0016)."""
    names = set(_post(planted, "SELECT name FROM system.tables", {}).text.split())
    assert names and not {n for n in names if n.startswith("sob_")}
    for view in ("sob_moments_per_day", "sob_completed_per_reason"):
        r = _post(planted, f"SELECT * FROM {view}", {})
        assert r.status_code == 404 and r.headers["x-clickhouse-exception-code"] == "60"


def test_the_parse_the_gate_reads_executes_nothing_on_this_engine(planted: Store) -> None:
    """What the gate rests on, pinned for this chDB: EXPLAIN AST neither runs a
    scalar subquery (no throwIf, no sleep) nor reads a table, while the
    analyzer (EXPLAIN QUERY TREE) does run it."""
    svc = planted.client(planted.service, database=planted.db)
    started = time.monotonic()
    tree = svc.command(
        "EXPLAIN AST SELECT (SELECT throwIf(1, 'ran')), (SELECT sleep(3)), "
        "(SELECT throwIf(count() > 0, 'read') FROM sob_transactions)"
    )
    assert "Function throwIf" in str(tree) and time.monotonic() - started < 2.5
    with pytest.raises(DatabaseError) as err:
        svc.command("EXPLAIN QUERY TREE SELECT (SELECT throwIf(count() > 0, 'read') "
                    "FROM sob_transactions)")  # fmt: skip
    assert err.value.code == 395  # FUNCTION_THROW_IF_VALUE_IS_NON_ZERO: the analyzer ran it
