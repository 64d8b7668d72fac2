"""Distributed mode on this machine: several `statflow worker` processes share
the input topics through Kafka's consumer group and write through an http://
ClickHouse DSN, an `statflow api` answers from the same store. Locally the DSN
is the embedded store's ClickHouse HTTP interface (`statflow store`), the code
path a ClickHouse server takes; under `make test-docker` it is the server.

Workers join and are SIGKILLed while events arrive (every change a rebalance);
afterwards every call is counted exactly once, in the reports and in the raw
table."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from pathlib import Path

import clickhouse_connect
import pytest

from core import auth
from core.settings import Settings
from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from tests.integration.conftest import free_port
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish
from tests.integration.test_restart import total_by_operation, want_by_operation

SECRET = "multi-worker-test-secret-0123456789abcdef"


class Cluster:
    """The store (when embedded), an API and the workers, all from one settings."""

    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[StatflowProcess] = []
        self.store: StatflowProcess | None = None
        base = settings.with_(jwt_secret=SECRET, topic_partitions=6, batch_max_records=1500)
        if base.embedded:
            self.store = StatflowProcess(
                base.with_(clickhouse_http_port=free_port()), tmp / "store.log", "store"
            )
            token = auth.issue(SECRET, "worker", [], ["service"])
            dsn = f"http://worker:{token}@127.0.0.1:{self.store.settings.clickhouse_http_port}"
            base = base.with_(clickhouse_dsn=dsn)
        self.base = base.with_(clickhouse_http_port=0)
        self.api = StatflowProcess(self.base.with_(http_port=free_port()), tmp / "api.log", "api")

    def start(self) -> Cluster:
        if self.store is not None:
            self.store.start()
        self.api.start()
        return self

    def worker(self, faults: str = "") -> StatflowProcess:
        n = len(self.procs)
        w = StatflowProcess(
            self.base.with_(metrics_port=free_port(), faults=faults),
            self.tmp / f"worker{n}.log",
            "worker",
        )
        self.procs.append(w)
        return w.start()

    def stop(self) -> None:
        for p in [*self.procs, self.api, *([self.store] if self.store else [])]:
            p.stop()

    def raw_counts(self) -> tuple[int, int]:
        """Rows and distinct event ids of the raw calls table, read directly."""
        s = self.base
        client = clickhouse_connect.get_client(dsn=s.dsn, database=s.clickhouse_database)
        try:
            rows = client.query("SELECT count(), uniqExact(event_id) FROM ntjp_calls").result_rows
        finally:
            client.close()
        return int(rows[0][0]), int(rows[0][1])

    def logs(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.tail(20)}" for p in [*self.procs, self.api])


@pytest.fixture
def cluster(settings: Settings, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(settings, tmp_path)
    try:
        yield c
    finally:
        c.stop()


def _counted(api: StatflowProcess) -> int:
    try:
        return sum(total_by_operation(api).values())
    except Exception:  # noqa: BLE001 - the API may be between answers; count as nothing yet
        return 0


def test_workers_joining_and_dying_lose_and_double_nothing(cluster: Cluster) -> None:
    s = cluster.base
    world = make_world(seed=93, n_units=40)
    calls = make_calls(world, dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                       dt.datetime(2024, 12, 31, tzinfo=dt.UTC), 36_000, seed=93)  # fmt: skip
    rng = random.Random(93)
    again = rng.sample(calls, 1_500)  # republished by a producer: counted once
    first, later = calls[:20_000] + again[:700], calls[20_000:] + again[700:]
    publish(s, "hsa.units.v1", world.units)
    publish(s, "ntjp.calls.v1", first)
    cluster.start()
    want = want_by_operation(calls)
    total = sum(want.values())

    a = cluster.worker()
    cluster.api.wait_for(lambda: _counted(cluster.api) > 0 or "nothing yet", 120, "a first batch")
    b = cluster.worker()  # joins: the partitions are shared out again
    # `a` may have finished the first part while `b` was starting (ingest is
    # fast); then there is nothing left to progress on, which is not a stall.
    done_first = sum(want_by_operation(list({x["event_id"]: x for x in first}.values())).values())
    seen = _counted(cluster.api)
    cluster.api.wait_for(
        lambda: _counted(cluster.api) > seen or _counted(cluster.api) == done_first or "stuck",
        120, "progress with 2",
    )  # fmt: skip
    a.kill()  # dies mid-stream: its partitions go to b when its session times out
    publish(s, "ntjp.calls.v1", later)
    c = cluster.worker()
    time.sleep(3)
    b.kill()
    cluster.worker()
    c.kill()
    cluster.api.wait_for(
        lambda: total_by_operation(cluster.api) == want or total_by_operation(cluster.api),
        timeout=240, what=f"all {total} calls counted once\n{cluster.logs()}",
    )  # fmt: skip
    rows, distinct = cluster.raw_counts()
    assert rows == distinct == len({x["event_id"] for x in calls}), "each event stored once"
    time.sleep(3)  # nothing arrives late
    assert total_by_operation(cluster.api) == want
