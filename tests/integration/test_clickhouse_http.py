"""ClickHouse's HTTP interface over the embedded store, with clickhouse-connect
itself as the client: `statflow store` in a subprocess owns a chDB path on a
temporary home; the tests talk to it the way report writers, Grafana and
statflow workers in other processes do."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clickhouse_connect
import httpx
import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from core import auth
from core.settings import Settings
from sinks.clickhouse import ClickHouseStore
from sinks.migrate import load, migrate
from tests.integration.conftest import free_port
from tests.integration.harness import StatflowProcess

ROOT = Path(__file__).resolve().parents[2]
SECRET = "chhttp-integration-secret-0123456789abcdef"
# Tolvan Tolvansson, Skatteverket's test person: must never come out of a view.
PERSONNUMMER = "191212121212"
PERSONAL_COLUMNS = {
    "patient_id", "practitioner_id", "assignee_id", "account_id", "case_id", "event_id",
    "given_name", "family_name", "started_by", "completed_by", "patient_gender", "patient_age",
}  # fmt: skip


@dataclass
class Store:
    settings: Settings
    reader: str
    service: str

    @property
    def db(self) -> str:
        return self.settings.clickhouse_database

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.clickhouse_http_port}/"

    def client(self, token: str, **kwargs: Any) -> Client:
        return clickhouse_connect.get_client(
            host="127.0.0.1", port=self.settings.clickhouse_http_port, username="tester",
            password=token, **kwargs,
        )  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with running_store(tmp_path_factory.mktemp("chhttp"), max_seconds=2) as served:
        yield served


@contextmanager
def running_store(tmp: Path, max_seconds: int) -> Iterator[Store]:
    """`statflow store` in a subprocess on a home under `tmp`."""
    settings = Settings(
        home=tmp / "home",
        clickhouse_database=f"sf_{uuid.uuid4().hex[:10]}",
        clickhouse_http_port=free_port(),
        clickhouse_http_max_rows=5000,  # above system.settings' ~1900 rows
        clickhouse_http_max_seconds=max_seconds,
        jwt_secret=SECRET,
    )
    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
    log = tmp / "store.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "statflow", "store"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait_ping(f"http://127.0.0.1:{settings.clickhouse_http_port}/ping", proc, log)
        yield Store(
            settings,
            auth.issue(SECRET, "grafana", [], ["sql_reader"]),
            auth.issue(SECRET, "worker", [], ["service"]),
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)


def _wait_ping(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"statflow store exited:\n{log.read_text('utf-8', 'replace')}")
        try:
            if httpx.get(url, timeout=2).text == "Ok.\n":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"no answer on {url}:\n{log.read_text('utf-8', 'replace')}")


def _code(call: Any) -> int:
    with pytest.raises(DatabaseError) as err:
        call()
    assert err.value.code is not None, str(err.value)
    return int(err.value.code)


def test_clickhouse_connect_queries_commands_and_inserts_once_per_token(store: Store) -> None:
    svc = store.client(store.service, database=store.db)
    assert svc.server_version and svc.command("SELECT 40 + 2") == 42
    svc.command(
        "CREATE TABLE IF NOT EXISTS http_events (id UInt32, name String, at DateTime64(3, 'UTC')) "
        "ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100"
    )
    svc.command(
        "CREATE TABLE IF NOT EXISTS http_events_total (n SimpleAggregateFunction(sum, UInt64)) "
        "ENGINE = AggregatingMergeTree ORDER BY tuple() "
        "SETTINGS non_replicated_deduplication_window = 100"
    )
    svc.command(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS http_events_mv TO http_events_total "
        "AS SELECT count() AS n FROM http_events"
    )
    at = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    columns = [[1, 2, 3], ["a", "b", "c"], [at, at, at]]
    token = {"insert_deduplication_token": "batch-1",
             "deduplicate_blocks_in_dependent_materialized_views": 1}  # fmt: skip
    for _ in range(2):  # a repair inserts the same block under the same token
        summary = svc.insert("http_events", columns, column_names=["id", "name", "at"],
                             column_oriented=True, settings=token)  # fmt: skip
        assert summary.written_rows == 3
    assert svc.query("SELECT count(), sum(id) FROM http_events").result_rows == [(3, 6)]
    assert svc.query("SELECT sum(n) FROM http_events_total").result_rows == [(3,)]
    rows = svc.query(
        "SELECT id FROM http_events WHERE name IN {names:Array(String)} AND at = {at:DateTime64(3)}"
        " ORDER BY id",
        parameters={"names": ["a", "c"], "at": at},
    ).result_rows
    assert rows == [(1,), (3,)]
    assert (
        svc.raw_query("SELECT name FROM http_events ORDER BY id", fmt="CSV") == b'"a"\n"b"\n"c"\n'
    )
    typed = svc.raw_query("SELECT 7 AS n", fmt="RowBinaryWithNamesAndTypes")
    assert typed == b"\x01\x01n\x05UInt8\x07"
    tables = svc.query(  # what backfill asks
        "SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE 'http_%'",
        parameters={"db": store.db},
    ).result_rows
    assert sorted(tables) == [("http_events",), ("http_events_mv",), ("http_events_total",)]


def test_settings_apply_to_one_query_only(store: Store) -> None:
    svc = store.client(store.service)
    asked = svc.query("SELECT getSetting('max_threads')", settings={"max_threads": 7})
    assert asked.result_rows == [(7,)]
    assert svc.query("SELECT getSetting('max_threads')").result_rows != [(7,)]
    reader = store.client(store.reader)
    assert reader.query("SELECT getSetting('readonly')").result_rows == [(1,)]
    assert svc.query("SELECT getSetting('readonly')").result_rows == [(0,)]


def test_compressed_requests_and_answers(store: Store) -> None:
    for method in ("lz4", "zstd", "gzip"):
        svc = store.client(store.service, database=store.db, compress=method)
        assert svc.write_compression == method
        svc.command("CREATE TABLE IF NOT EXISTS http_packed (a UInt64, s String) "
                    "ENGINE = MergeTree ORDER BY a")  # fmt: skip
        svc.command("TRUNCATE TABLE http_packed")
        svc.insert("http_packed", [list(range(2000)), ["x" * 50] * 2000],
                   column_names=["a", "s"], column_oriented=True)  # fmt: skip
        assert svc.query("SELECT count(), sum(a) FROM http_packed").result_rows == [(2000, 1999000)]
    with httpx.Client(auth=("worker", store.service)) as http:
        body = gzip.compress(b"7\ty\n8\tz\n")
        r = http.post(store.url, params={"database": store.db, "query": "INSERT INTO http_packed "
                      "FORMAT TSV"}, content=body, headers={"Content-Encoding": "gzip"})  # fmt: skip
        assert r.status_code == 200 and '"written_rows":"2"' in r.headers["x-clickhouse-summary"]
        r = http.post(store.url, params={"database": store.db},
                      content=b"SELECT s FROM http_packed FORMAT JSONCompact",
                      headers={"Accept-Encoding": "gzip"})  # fmt: skip
        assert r.headers["content-encoding"] == "gzip" and len(r.json()["data"]) == 2002
        r = http.post(store.url, params={"enable_http_compression": "0"},
                      content=b"SELECT 1", headers={"Accept-Encoding": "gzip"})  # fmt: skip
        assert "content-encoding" not in r.headers and r.text == "1\n"


def test_grafana_style_queries_in_the_body(store: Store) -> None:
    assert httpx.get(store.url + "ping").text == "Ok.\n"
    with httpx.Client(auth=("grafana", store.reader)) as http:
        # clickhouse-go: the query in the POST body, default_format=Native, and
        # max_execution_time on every query (a reader may lower it, not raise it)
        r = http.post(store.url, params={"default_format": "Native", "max_execution_time": "60"},
                      content=b"SELECT timeZone()")  # fmt: skip
        assert r.status_code == 200 and r.headers["x-clickhouse-format"] == "Native"
        assert r.content.startswith(b"\x01\x01\ntimeZone()\x06String")
        r = http.post(store.url, content=b"SELECT name FROM system.tables ORDER BY name "
                      b"FORMAT JSON")  # fmt: skip
        assert r.headers["content-type"].startswith("application/json")
        assert [row["name"] for row in r.json()["data"]][:2] == [
            "calls_per_day",
            "etj_cases_per_day",
        ]
        r = http.get(store.url, params={"query": "SELECT 1", "query_id": "grafana-1"})
        assert r.text == "1\n" and r.headers["x-clickhouse-query-id"] == "grafana-1"
        r = http.get(store.url, params={"query": "SELECT {x:UInt8} + 1", "param_x": "41"})
        assert r.text == "42\n" and r.headers["x-clickhouse-format"] == "TabSeparated"
        r = http.post(store.url, content=b"SELECT getSetting('max_execution_time')",
                      params={"max_execution_time": "60"})  # fmt: skip
        assert r.text == "2\n"  # the store's limit wins over a looser one


def test_a_reader_sees_the_reports_views_without_personal_identifiers(store: Store) -> None:
    svc = store.client(store.service, database=store.db)
    at = dt.datetime(2025, 3, 3, 9, 30, tzinfo=dt.UTC)
    svc.insert("ntjp_calls", [["c1", "c2"], [at, at], ["MakeBooking"] * 2, ["SE1-U1"] * 2,
               [""] * 2, ["ok"] * 2, ["01"] * 2, [0, 0], [1, 2]],
               column_names=["event_id", "occurred_at", "operation", "logical_address",
                             "consumer_id", "status", "county_at_ingest", "source_partition",
                             "source_offset"], column_oriented=True)  # fmt: skip
    sob = {
        "event_id": ["s1"], "occurred_at": [at], "case_id": ["case-1"], "case_type": ["Process"],
        "status": ["Inprogress"], "process_name": ["KBT"], "moment_name": ["Start"],
        "care_provider_id": ["SE1-CP"], "care_unit_id": ["SE1-U1"], "practitioner_id": ["SE1-P9"],
        "patient_id": [PERSONNUMMER], "patient_gender": ["F"], "patient_age": [40],
        "closing_reason": [""], "source_partition": [0], "source_offset": [1],
    }  # fmt: skip
    svc.insert("sob_transactions", list(sob.values()), column_names=list(sob),
               column_oriented=True)  # fmt: skip
    reader = store.client(store.reader)
    views = [r[0] for r in reader.query("SELECT name FROM system.tables ORDER BY name").result_rows]
    # No support-and-treatment views since migration 0016 (issue 15): their
    # per-day, per-unit counts are not held to the open tier's rule.
    assert views == [
        "calls_per_day", "etj_cases_per_day", "etj_logins_per_day", "etj_units", "hsa_units",
        "ntjp_routing", "scb_population",
    ]  # fmt: skip
    columns = {r[0] for r in reader.query("SELECT name FROM system.columns").result_rows}
    assert columns and not columns & PERSONAL_COLUMNS
    assert reader.query("SELECT day, unit_id, operation, calls FROM calls_per_day").result_rows == [
        (dt.date(2025, 3, 3), "SE1-U1", "MakeBooking", 2)
    ]
    empty = reader.query("SELECT unit_id, calls FROM calls_per_day WHERE calls > 1000")
    assert empty.column_names == ("unit_id", "calls") and empty.result_rows == []
    assert _code(lambda: reader.query("SELECT started FROM sob_moments_per_day")) == 60
    for view in views:
        assert PERSONNUMMER.encode() not in reader.raw_query(f"SELECT * FROM {view}", fmt="CSV")
    assert reader.query("SHOW DATABASES").result_rows == [(store.settings.reports_db,)]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("INSERT INTO calls_per_day VALUES (1)", 164),
        ("CREATE TABLE x (a UInt8) ENGINE = Memory", 164),
        ("DROP TABLE calls_per_day", 164),
        ("/* SELECT */ DROP TABLE calls_per_day", 164),
        ("SELECT 1 SETTINGS readonly = 0", 164),
        ("SELECT * FROM calls_per_day SETTINGS max_result_rows = 0", 164),
        ("SELECT 1; DROP TABLE calls_per_day", 62),
        ("SELECT patient_id FROM {db}.sob_transactions", 497),
        ("SELECT (SELECT any(patient_id) FROM {db}.sob_transactions)", 497),
        (
            "SELECT * FROM calls_per_day WHERE unit_id IN (SELECT care_unit_id FROM "
            "{db}.sob_transactions WHERE patient_id != '')",
            497,
        ),  # fmt: skip
        ("WITH p AS (SELECT patient_id FROM {db}.sob_moment_facts) SELECT * FROM p", 497),
        (
            "SELECT * FROM calls_per_day AS c JOIN {db}.sob_moment_facts AS f "
            "ON c.unit_id = f.care_unit_id",
            497,
        ),  # fmt: skip
        ("SELECT * FROM merge('{db}', '^sob_')", 497),
        ("SELECT * FROM view(SELECT patient_id FROM {db}.sob_transactions)", 497),
        ("SELECT * FROM file('/etc/passwd', 'LineAsString')", 497),
        ("SELECT * FROM url('http://127.0.0.1:9/', 'CSV', 'a String')", 497),
        ("SELECT `file`('/etc/hostname')", 497),
        ("SELECT query FROM system.processes", 497),
        ("SHOW PROCESSLIST", 497),
        ("DESCRIBE TABLE {db}.sob_transactions", 497),
        ("SELECT 1 INTO OUTFILE 'out.csv'", 497),
    ],
)
def test_a_reader_is_refused_writes_ddl_other_databases_and_table_functions(
    store: Store, query: str, code: int
) -> None:
    reader = store.client(store.reader)
    assert _code(lambda: reader.raw_query(query.format(db=store.db))) == code


def test_a_reader_may_not_switch_database(store: Store) -> None:
    r = httpx.post(store.url, params={"database": store.db}, content=b"SELECT 1",
                   auth=("grafana", store.reader))  # fmt: skip
    assert r.status_code == 403 and r.text.startswith("Code: 497. DB::Exception: ")
    assert r.headers["x-clickhouse-exception-code"] == "497"


def test_a_readers_rows_and_time_are_limited(store: Store) -> None:
    reader = store.client(store.reader)
    assert reader.query("SELECT count() FROM numbers(6000)").result_rows == [(6000,)]
    assert _code(lambda: reader.query("SELECT number FROM numbers(6000)")) == 396
    r = httpx.post(store.url, params={"max_result_rows": "10"}, auth=("g", store.reader),
                   content=b"SELECT number FROM numbers(20)")  # fmt: skip
    assert r.status_code == 400 and "TOO_MANY_ROWS_OR_BYTES" in r.text
    started = time.monotonic()
    assert _code(lambda: reader.query("SELECT sum(number) FROM numbers(100000000000)")) == 159
    assert time.monotonic() - started < 15
    svc = store.client(store.service)  # the next session starts clean
    assert svc.query("SELECT count() FROM numbers(6000)").result_rows == [(6000,)]


def test_no_token_or_a_bad_one_is_refused_in_clickhouse_style(store: Store) -> None:
    r = httpx.post(store.url, content=b"SELECT 1")
    assert r.status_code == 401 and r.headers["x-clickhouse-exception-code"] == "194"
    assert r.text.startswith("Code: 194. DB::Exception: ") and "statflow token" in r.text
    r = httpx.post(store.url, content=b"SELECT 1", auth=("x", "not-a-token"))
    assert r.status_code == 401 and r.headers["x-clickhouse-exception-code"] == "516"
    other = auth.issue("another-secret-0123456789abcdef0123", "x", [], ["sql_reader"])
    assert _code(lambda: store.client(other)) == 516
    no_role = auth.issue(SECRET, "x", ["SE1-CP"], ["operator"])
    assert _code(lambda: store.client(no_role)) == 497


def test_another_process_runs_clickhousestore_and_migrations_through_it(store: Store) -> None:
    """What a second worker will do: statflow's own store over an http:// DSN,
    in a database of its own (statflow's databases are <db>_*)."""
    settings = Settings(
        home=store.settings.home.parent / "worker2",
        clickhouse_dsn=f"http://worker:{store.service}@127.0.0.1:{store.settings.clickhouse_http_port}",
        clickhouse_database=f"{store.db}_w2",
    )
    remote = ClickHouseStore(settings)
    assert not remote.embedded
    assert migrate(remote) == [m.version for m in load()]
    assert migrate(remote) == []
    at = dt.datetime(2025, 4, 1, 8, 0, tzinfo=dt.UTC)
    calls = {
        "event_id": ["w1", "w2"], "occurred_at": [at, at], "operation": ["MakeBooking"] * 2,
        "logical_address": ["SE2-U"] * 2, "consumer_id": [""] * 2, "status": ["ok"] * 2,
        "county_at_ingest": ["01"] * 2, "source_partition": [3, 3], "source_offset": [10, 11],
        "batch_token": ["t|p3|10-11|202504"] * 2,
    }  # fmt: skip
    dedup = {"insert_deduplication_token": "t|p3|10-11|202504",
             "deduplicate_blocks_in_dependent_materialized_views": 1}  # fmt: skip
    remote.insert_columns("ntjp_calls", calls, settings=dedup)
    remote.insert_columns("ntjp_calls", calls, settings=dedup)
    assert remote.query_rows("SELECT count() FROM ntjp_calls") == [(2,)]
    assert remote.query_rows("SELECT sum(calls) FROM ntjp_calls_daily") == [(2,)]
    # 5000 ids: long enough that clickhouse-connect sends them as a form
    ids = [f"x{i:05d}" for i in range(5000)] + ["w2"]
    assert remote.existing("ntjp_calls", "event_id", ids) == {"w2"}
    assert remote.query_rows(
        "SELECT calls FROM {rep:Identifier}.calls_per_day WHERE unit_id = {u:String}",
        {"rep": settings.reports_db, "u": "SE2-U"},
    ) == [(2,)]
    remote.close()


def test_statflow_run_serves_it_too(settings: Settings, tmp_path: Path) -> None:
    served = settings.with_(clickhouse_http_port=free_port(), jwt_secret=SECRET)
    proc = StatflowProcess(served, tmp_path / "run.log").start()
    try:
        reader = clickhouse_connect.get_client(
            host="127.0.0.1", port=served.clickhouse_http_port, username="grafana",
            password=auth.issue(SECRET, "grafana", [], ["sql_reader"]),
        )  # fmt: skip
        assert reader.query("SELECT count() FROM calls_per_day").result_rows == [(0,)]
        assert proc.get("/readyz").status_code == 200  # the report API beside it
    finally:
        proc.stop()
