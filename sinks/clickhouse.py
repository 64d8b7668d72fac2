"""The one door to ClickHouse: chDB on disk or a server, chosen by the DSN.

Driver errors are translated to SinkError here so nothing above this module
needs to know clickhouse-connect's exception types.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import clickhouse_connect
import pyarrow as pa
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from core import faults
from core.errors import ConfigError, SinkError
from core.settings import Settings
from sinks.cluster import on_cluster

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def check_identifier(name: str) -> str:
    """Database and table names come from settings, never from a request."""
    if not _IDENT.match(name):
        raise ConfigError(f"{name!r} is not a valid ClickHouse identifier")
    return name


# chDB's engine configuration (a ClickHouse server takes the same <rocksdb>
# section in its own config). The seen-id stores are EmbeddedRocksDB tables
# looked up by key once per write; without a filter a key they do not hold (the
# usual case: a new event) is searched in every sorted run of the store, whose
# count grows with history. A whole-key Bloom filter answers most of those
# misses from memory (README, Benchmarks: the seen-id lookup at 10 M ids).
CHDB_CONFIG = """<clickhouse>
    <rocksdb>
        <block_based_table_options>
            <filter_policy>bloomfilter:10:false</filter_policy>
            <whole_key_filtering>true</whole_key_filtering>
        </block_based_table_options>
    </rocksdb>
</clickhouse>
"""


def chdb_options(chdb_path: str) -> dict[str, str]:
    """The engine options of an embedded store: its configuration file, kept in
    the chDB directory (written when it differs). Only the first connection of
    a process to the path starts the engine with them."""
    config = Path(chdb_path) / "statflow-engine.xml"
    if not config.exists() or config.read_text("utf-8") != CHDB_CONFIG:
        tmp = config.with_suffix(".xml.tmp")
        tmp.write_text(CHDB_CONFIG, "utf-8")
        tmp.replace(config)
    return {"config-file": str(config)}


# Queries that may run at once in one process, each on a connection of its
# own: reports of the API, lookups of the ingest loops, ClickHouse-HTTP requests.
# Beyond it they queue; more would only share the same cores.
READERS = 4


class ClickHouseStore:
    """clickhouse-connect clients: one writer under a lock, and readers.

    Writes (inserts, commands) go through one client, one at a time: what a
    sink does in several calls (the probe table of `existing`) holds the lock
    across them. Reads (`query_rows`) take a connection of their own from a
    small pool and never the writer's lock, so a report that takes a second
    does not hold up the ingest loop's next insert. chDB runs queries of
    different connections of its one engine in parallel (chdb.connect's
    documentation; tests/integration/test_readers_beside_ingest.py), as a
    server does. A read sees every insert that returned before it started,
    and no in-process lock orders reads against writes: a `statflow api` apart
    from its workers never had one.
    """

    def __init__(self, settings: Settings, share_lock: ClickHouseStore | None = None) -> None:
        self.database = check_identifier(settings.clickhouse_database)
        self.reports_database = check_identifier(settings.reports_db)
        self.embedded = settings.embedded
        self.cluster = settings.clickhouse_cluster
        if self.cluster and self.embedded:
            raise ConfigError(
                "STATFLOW_CLICKHOUSE_CLUSTER needs a ClickHouse server (an http:// "
                "STATFLOW_CLICKHOUSE_DSN); chDB has no cluster"
            )
        # DDL for every node of the cluster; "" on a single node or chDB.
        self.on_cluster = f" {on_cluster(self.cluster)}" if self.cluster else ""
        self._chdb_path = ""
        self._options: dict[str, Any] = {}
        if self.embedded:
            Path(settings.dsn.removeprefix("chdb://")).mkdir(parents=True, exist_ok=True)
            # chDB compares engine paths literally; clickhouse-connect opens the
            # real path, and so must every further connection (engine_session).
            self._chdb_path = os.path.realpath(settings.dsn.removeprefix("chdb://"))
            self._options = {"chdb_options": chdb_options(self._chdb_path)}
        # A second database on the same chDB path (a backfill's shadow) must
        # queue behind the first store's calls, not run beside them.
        self._probes: set[str] = set()  # probe tables known to exist (see `existing`)
        self._lock: threading.RLock = (
            share_lock._lock if share_lock is not None else threading.RLock()
        )
        self._dsn = settings.dsn
        self._idle: list[Client] = []  # readers between calls
        self._idle_lock = threading.Lock()
        self._reader_slots = threading.BoundedSemaphore(READERS)
        self._slot_held = threading.local()  # this thread's depth inside a reader slot
        self._closed = False
        try:
            boot = clickhouse_connect.get_client(dsn=settings.dsn, **self._options)
            boot.command(f"CREATE DATABASE IF NOT EXISTS {self.database}{self.on_cluster}")
            self._client: Client = clickhouse_connect.get_client(
                dsn=settings.dsn, database=self.database, **self._options
            )
        except ClickHouseError as exc:
            raise SinkError(f"cannot open ClickHouse at {settings.dsn}: {exc}") from exc

    def command(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Any:
        with self._lock:
            try:
                return self._client.command(
                    sql, parameters=dict(parameters or {}), settings=dict(settings or {})
                )
            except ClickHouseError as exc:
                raise SinkError(f"ClickHouse command failed: {_short(exc)}") from exc

    def query_rows(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        with self._reader() as client:
            return _rows(client, sql, parameters, settings)

    @contextmanager
    def _reader_slot(self) -> Iterator[None]:
        """One of the READERS places, taken once per thread: a call made
        while this thread already holds one (the HTTP interface's check reads
        the store's databases inside its own read session) uses that place.
        Taking a second would deadlock once every place is held by a thread
        waiting for another."""
        depth = getattr(self._slot_held, "depth", 0)
        if depth:
            self._slot_held.depth = depth + 1
            try:
                yield
            finally:
                self._slot_held.depth = depth
            return
        with self._reader_slots:
            self._slot_held.depth = 1
            try:
                yield
            finally:
                self._slot_held.depth = 0

    @contextmanager
    def _reader(self) -> Iterator[Client]:
        """A reader client for one call: an idle one, or a new connection
        while fewer than READERS are in use."""
        with self._reader_slot():
            with self._idle_lock:
                if self._closed:
                    raise SinkError("ClickHouse query failed: this store is closed")
                client = self._idle.pop() if self._idle else None
            if client is None:
                try:
                    client = clickhouse_connect.get_client(
                        dsn=self._dsn, database=self.database, **self._options
                    )
                except ClickHouseError as exc:
                    raise SinkError(f"cannot open ClickHouse at {self._dsn}: {exc}") from exc
            try:
                yield client
            finally:
                with self._idle_lock:
                    if self._closed:
                        client.close()  # closed while this call ran
                    else:
                        self._idle.append(client)

    def insert_columns(
        self,
        table: str,
        columns: Mapping[str, Sequence[Any]],
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        names = list(columns)
        if not names or not len(columns[names[0]]):
            return
        if faults.failing("sink.writes-fail"):
            raise SinkError(f"ClickHouse insert into {table} failed: injected fault (disk full)")
        with self._lock:
            try:
                self._client.insert(
                    check_identifier(table),
                    [columns[n] for n in names],
                    column_names=names,
                    column_oriented=True,
                    settings=dict(settings or {}),
                )
            except ClickHouseError as exc:
                raise SinkError(f"ClickHouse insert into {table} failed: {_short(exc)}") from exc

    def insert_arrow(
        self, table: str, data: pa.Table, settings: Mapping[str, Any] | None = None
    ) -> None:
        """One block from an Arrow table: about 3x cheaper per row than the
        Native format clickhouse-connect builds from Python lists in Python."""
        if not data.num_rows:
            return
        if faults.failing("sink.writes-fail"):
            raise SinkError(f"ClickHouse insert into {table} failed: injected fault (disk full)")
        with self._lock:
            try:
                self._client.insert_arrow(
                    check_identifier(table), data, settings=dict(settings or {})
                )
            except ClickHouseError as exc:
                raise SinkError(f"ClickHouse insert into {table} failed: {_short(exc)}") from exc

    def column_types(self, table: str) -> dict[str, str]:
        """The table's insertable columns and their ClickHouse types, in order."""
        rows = self.query_rows(
            "SELECT name, type FROM system.columns WHERE database = {db:String} "
            "AND table = {t:String} AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') "
            "ORDER BY position",
            {"db": self.database, "t": check_identifier(table)},
        )
        return {str(n): str(t) for n, t in rows}

    def existing(
        self, table: str, column: str, values: Sequence[str] | pa.ChunkedArray
    ) -> set[str]:
        """Which of `values` (a list, or an Arrow string column) are in `table.column`.

        Embedded, through a probe table: inserting 20 000 ids is about 4x
        cheaper than binding them as a query parameter, which clickhouse-connect
        escapes one by one in Python (bench/README.md). Against a server the
        parameter is used, since a shared probe table would mix workers' ids.
        """
        t, c = check_identifier(table), check_identifier(column)
        if not len(values):
            return set()
        if not self.embedded:
            listed = values.to_pylist() if isinstance(values, pa.ChunkedArray) else list(values)
            sql = f"SELECT {c} FROM {t} WHERE {c} IN {{v:Array(String)}}"
            return {r[0] for r in self.query_rows(sql, {"v": listed})}
        probe = f"{t}_probe"
        with self._lock:  # the probe is this call's until it has answered
            if probe not in self._probes:
                self.command(f"CREATE TABLE IF NOT EXISTS {probe} (v String) ENGINE = Memory")
                self._probes.add(probe)
            self.command(f"TRUNCATE TABLE {probe}")  # also what a failed call left
            probed = (
                values.cast(pa.string())
                if isinstance(values, pa.ChunkedArray)
                else pa.array(values, pa.string())
            )
            self.insert_arrow(probe, pa.table({"v": probed}))
            sql = f"SELECT {c} FROM {t} WHERE {c} IN (SELECT v FROM {probe})"
            rows = _rows(self._client, sql)  # the writer's: the probe is its table
        return {r[0] for r in rows}

    @contextmanager
    def engine_session(self, read: bool) -> Iterator[Any]:
        """A new chDB connection on this process's engine, for one request of
        the ClickHouse HTTP interface (web/chhttp). It starts with default
        settings and no current database, like a request to a ClickHouse
        server, so what one request SETs never reaches another or this store's
        own calls. A read takes one of the readers' places, never the writer's
        lock, so a long SELECT does not hold up ingest; a write (an INSERT of
        a publishing team) queues with this store's writes, as before."""
        with self.engine_sessions(read, 1) as (conn,):
            yield conn

    @contextmanager
    def engine_sessions(self, read: bool, count: int) -> Iterator[list[Any]]:
        """`count` such connections at once, in one place: the HTTP interface
        checks a reader's statement on one (with the store's limits, so that a
        reader's lowered max_result_rows does not cut the parser's answer) and
        runs it on the other (with the reader's)."""
        if not self.embedded:
            raise ConfigError(
                "only the process that opened the chDB path can serve it; this store "
                "talks to a ClickHouse server"
            )
        import chdb

        with self._reader_slot() if read else self._lock:
            conns: list[Any] = []
            try:
                for _ in range(count):
                    conns.append(chdb.connect(self._chdb_path))  # type: ignore[no-untyped-call]
                yield conns
            finally:
                for conn in conns:
                    conn.close()

    def close(self) -> None:
        with self._idle_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for client in idle:
            client.close()
        with self._lock:
            self._client.close()


def _rows(
    client: Client,
    sql: str,
    parameters: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    try:
        result = client.query(sql, parameters=dict(parameters or {}), settings=dict(settings or {}))
    except ClickHouseError as exc:
        raise SinkError(f"ClickHouse query failed: {_short(exc)}") from exc
    return [tuple(r) for r in result.result_rows]


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return " ".join(text[:3])[:500]
