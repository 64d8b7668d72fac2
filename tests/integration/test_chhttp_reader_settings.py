"""Issue 19, "Downstream clients": a sql_reader may lower (never raise) its
limits through clickhouse-connect's `settings=` and a query's SETTINGS clause,
and Grafana's ad-hoc filters (`SETTINGS additional_table_filters = {…}`) narrow
the views of the reports database. Every hostile variant (filters on raw or
system tables, subqueries and table functions in filters, raising a limit,
replacing the store's filters on system tables) is refused with a 4xx and
echoes no data. On `statflow store` over a real chDB, with clickhouse-connect
itself as the client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.test_chhttp_exfiltration import PLANTED, REFUSED, _plant
from tests.integration.test_clickhouse_http import Store, _code, running_store

OTHER_UNIT = "SE1-U2-NARROW"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with running_store(tmp_path_factory.mktemp("readerset"), max_seconds=30) as served:
        _plant(served)  # a patient, a practitioner and a staff member in raw tables
        svc = served.client(served.service, database=served.db)
        at = dt.datetime(2025, 3, 4, 9, 30, tzinfo=dt.UTC)
        svc.insert("ntjp_calls", [["n1", "n2"], [at, at], ["MakeBooking"] * 2, [OTHER_UNIT] * 2,
                   [""] * 2, ["ok"] * 2, ["01"] * 2, [0, 0], [20, 21]],
                   column_names=["event_id", "occurred_at", "operation", "logical_address",
                                 "consumer_id", "status", "county_at_ingest",
                                 "source_partition", "source_offset"],
                   column_oriented=True)  # fmt: skip
        yield served


def _post(store: Store, query: str) -> httpx.Response:
    text = query.replace("{db}", store.db).replace("{reports}", store.settings.reports_db)
    return httpx.post(store.url, content=text.encode(), auth=("grafana", store.reader),
                      timeout=60)  # fmt: skip


def test_clickhouse_connect_lowers_a_readers_limits(store: Store) -> None:
    # On main the client itself refused these: system.settings said every
    # setting was read-only for a reader ("Setting max_result_rows is readonly").
    # (a client-wide max_result_rows would hold its own settings probe, ~1900
    # rows of system.settings, to that number, as on a ClickHouse server)
    lowered = store.client(store.reader, settings={"max_execution_time": 5})
    assert lowered.query("SELECT getSetting('max_execution_time')").result_rows == [(5,)]
    reader = store.client(store.reader)
    asked = reader.query("SELECT getSetting('max_execution_time')",
                         settings={"max_execution_time": 3})  # fmt: skip
    assert asked.result_rows == [(3,)]
    rows = reader.query("SELECT number FROM numbers(5)", settings={"max_result_rows": 10})
    assert rows.result_rows == [(i,) for i in range(5)]
    assert _code(lambda: reader.query("SELECT number FROM numbers(20)",
                                      settings={"max_result_rows": 10})) == 396  # fmt: skip
    # a URL setting above the store's limit is held to the limit, as before
    held = reader.query("SELECT getSetting('max_result_rows')", settings={"max_result_rows": 10**9})
    assert held.result_rows == [(5000,)]
    # the session stays read-only; only the settings probe reads as readonly = 2
    assert reader.query("SELECT getSetting('readonly')").result_rows == [(1,)]
    assert _code(lambda: reader.command("CREATE TEMPORARY TABLE t (a UInt8)")) == 164


def test_a_settings_clause_may_lower_but_never_raise(store: Store) -> None:
    reader = store.client(store.reader)
    q = "SELECT getSetting('max_result_rows') SETTINGS max_result_rows = 10"
    assert reader.query(q).result_rows == [(10,)]
    assert _code(lambda: reader.query("SELECT number FROM numbers(20) "
                                      "SETTINGS max_result_rows = 10")) == 396  # fmt: skip
    q = "SELECT getSetting('max_execution_time') SETTINGS max_execution_time = 3"
    assert reader.query(q).result_rows == [(3,)]
    for raise_ in ("max_result_rows = 5001", "max_result_rows = 0", "max_execution_time = 0",
                   "max_execution_time = 31", "max_memory_usage = 1e15",
                   "result_overflow_mode = 'break'", "readonly = 2", "max_threads = 1"):  # fmt: skip
        assert _code(lambda r=raise_: reader.raw_query(f"SELECT 1 SETTINGS {r}")) == 164, raise_


def test_grafana_ad_hoc_filters_narrow_a_reports_view(store: Store) -> None:
    base = "SELECT unit_id, sum(calls) FROM calls_per_day GROUP BY unit_id ORDER BY unit_id"
    every = _post(store, base)
    assert every.status_code == 200 and OTHER_UNIT in every.text and "SE-ERRVAL" in every.text
    for key in ("calls_per_day", "{reports}.calls_per_day"):
        r = _post(store, f"{base} SETTINGS additional_table_filters = "
                         f"{{'{key}': 'unit_id = \\'{OTHER_UNIT}\\''}}")  # fmt: skip
        assert r.status_code == 200 and r.text == f"{OTHER_UNIT}\t2\n", r.text
    # as Grafana sends it: a FORMAT clause and a lowered limit beside the filters
    reader = store.client(store.reader)
    rows = reader.query(
        "SELECT day, calls FROM calls_per_day SETTINGS max_result_rows = 100, "
        "additional_table_filters = {'calls_per_day': 'unit_id IN (\\'" + OTHER_UNIT + "\\')'}"
    ).result_rows
    assert rows == [(dt.date(2025, 3, 4), 2)]
    # the next request has the store's filters on system tables again
    names = _post(store, "SELECT DISTINCT database FROM system.tables").text.split()
    assert names == [store.settings.reports_db]


HOSTILE = [
    # filters on raw tables, bare or qualified, and on other databases
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = "
    "{'{db}.ntjp_calls_daily': 'logical_address = \\'x\\''}",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'ntjp_calls_daily': '1'}",
    "SELECT count() FROM calls_per_day SETTINGS additional_table_filters = "
    "{'{db}.sob_transactions': 'patient_id = \\'193807149871\\''}",
    # the store's own filters on system tables: replaced, or bypassed beside a filter
    "SELECT database, name FROM system.tables SETTINGS additional_table_filters = "
    "{'system.tables': '1'}",
    "SELECT name FROM system.databases SETTINGS additional_table_filters = {'system.databases': '1'}",
    "SELECT database, name FROM system.tables SETTINGS additional_table_filters = "
    "{'calls_per_day': '1'}",
    "SELECT table_schema, table_name FROM information_schema.tables "
    "SETTINGS additional_table_filters = {'calls_per_day': '1'}",
    "SELECT name FROM system.columns WHERE table IN (SELECT unit_id FROM calls_per_day "
    "SETTINGS additional_table_filters = {'calls_per_day': '1'})",
    "SELECT (SELECT groupArray(name) FROM system.tables) FROM calls_per_day "
    "SETTINGS additional_table_filters = {'calls_per_day': '1'}",
    "SHOW TABLES SETTINGS additional_table_filters = {'calls_per_day': '1'}",
    "SELECT name FROM system.settings WHERE name = 'max_threads' SETTINGS max_threads = 1",
    # subqueries, table functions and denied functions in a filter
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'unit_id IN (SELECT patient_id FROM {db}.sob_transactions)'}",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'unit_id IN (SELECT hsa_id FROM hsa_units)'}",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'unit_id IN (SELECT toString(number) FROM numbers(3))'}",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'unit_id IN {db}.sob_transactions'}",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'unit_id IN system.tables'}",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'length(file(\\'/etc/hostname\\')) > 0'}",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'dictGetOrDefault(\\'{db}.patients\\', \\'patient_id\\', 1, \\'\\') != \\'\\''}",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'throwIf((SELECT any(patient_id) FROM {db}.sob_transactions) != \\'\\')'}",
    # filters that try to leave their parentheses, or carry statements
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'1) OR (unit_id IN (SELECT patient_id FROM {db}.sob_transactions)'}",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'1; SELECT patient_id FROM {db}.sob_transactions'}",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = {'calls_per_day': "
    "'1 SETTINGS readonly = 0'}",
    # raising limits, or settings that are not a reader's, in the clause
    "SELECT * FROM {db}.sob_transactions SETTINGS max_result_rows = 1",
    "SELECT number FROM numbers(10) SETTINGS max_result_rows = 0",
    "SELECT number FROM numbers(10) SETTINGS max_memory_usage = 0",
    "SELECT 1 SETTINGS readonly = 0",
    "SELECT 1 SETTINGS allow_introspection_functions = 1",
    "SELECT 1 SETTINGS max_result_rows = 10, max_result_rows = 20",
    "SELECT 1 SETTINGS max_result_rows = (SELECT count() FROM {db}.sob_transactions)",
    "SELECT * FROM calls_per_day SETTINGS additional_table_filters = 'unit_id = 1'",
    # the clause is cut from what EXPLAIN reads: a `--` comment before it must
    # not swallow what follows it
    "SELECT 'a' -- x\nSETTINGS max_execution_time = 5 UNION ALL "
    "SELECT any(patient_id) FROM {db}.sob_transactions",
    "SELECT unit_id FROM calls_per_day WHERE unit_id IN (SELECT 'a' -- x\n"
    "SETTINGS max_execution_time = 5) OR unit_id IN (SELECT patient_id FROM {db}.sob_transactions)",
    # the settings probe runs under readonly = 2, and nothing else may ride on it
    "SELECT name FROM system.settings WHERE name = "
    "(SELECT any(patient_id) FROM {db}.sob_transactions)",
    "SELECT name FROM system.settings WHERE name = 'x' SETTINGS readonly = 0",
    "CREATE TEMPORARY TABLE leak AS SELECT name FROM system.settings",
    "SELECT name FROM system.settings UNION ALL SELECT patient_id FROM {db}.sob_transactions",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_settings_are_refused_and_echo_nothing(store: Store, query: str) -> None:
    r = _post(store, query)
    assert r.status_code in (400, 403), r.text
    assert r.headers.get("x-clickhouse-exception-code") in REFUSED | {"62"}, r.text
    assert not [v for v in PLANTED if v.lower() in r.text.lower()], r.text
    assert "sob_transactions" not in r.text.replace(store.db + ".sob_transactions", "")


def test_a_filter_sees_the_views_columns_only(store: Store) -> None:
    """hsa_units is a reports view and a raw table of the same name: a bare
    key is the reports view's, whose columns leave out the raw `deleted`."""
    r = _post(store, "SELECT count() FROM hsa_units SETTINGS additional_table_filters = "
                     "{'hsa_units': 'deleted = 1'}")  # fmt: skip
    assert r.status_code == 404 and r.headers["x-clickhouse-exception-code"] == "47", r.text
    assert not [v for v in PLANTED if v.lower() in r.text.lower()], r.text
