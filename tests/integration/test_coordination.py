"""Coordination through ClickHouse with the API in its own process (issue 19):
a backfill started through `statflow api` while two `statflow worker`
processes ingest pauses both (each acknowledges in ClickHouse) and ends with
every report equal to the oracle; nightly files applied through the API while
both workers watch the same drop are each applied exactly once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import clickhouse_connect

from core import auth
from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from tests.integration.harness import HTTP, StatflowProcess
from tests.integration.kafka_util import publish
from tests.integration.test_multi_worker import SECRET, Cluster, cluster  # noqa: F401
from tests.integration.test_ntjp_e2e import check_reports, publish_world
from tests.integration.test_reconcile_ntjp import day_of, write_file
from tests.integration.test_restart import total_by_operation, want_by_operation

OPERATOR = {"Authorization": f"Bearer {auth.issue(SECRET, 'ops-anna', ['*'], [auth.OPERATOR])}"}


def _sql(c: Cluster, sql: str) -> list[tuple[Any, ...]]:
    s = c.base
    client = clickhouse_connect.get_client(dsn=s.dsn, database=s.clickhouse_database)
    try:
        return [tuple(r) for r in client.query(sql).result_rows]
    finally:
        client.close()


def _counted(api: StatflowProcess) -> dict[str, int]:
    try:
        return total_by_operation(api)
    except Exception:  # noqa: BLE001 - between answers: nothing yet
        return {}


def test_backfill_through_the_api_while_two_workers_ingest(cluster: Cluster) -> None:  # noqa: F811
    s = cluster.base
    world = make_world(seed=191, n_units=40)
    start, end = dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    calls = make_calls(world, start, end, 24_000, seed=191)
    first, later = calls[:14_000], calls[14_000:]
    publish_world(s, world)
    publish(s, "ntjp.calls.v1", first)
    cluster.start()
    cluster.worker()
    cluster.worker()
    api = cluster.api
    api.wait_for(lambda: _counted(api) == want_by_operation(first) or "not yet", 180,
                 f"the first calls ingested\n{cluster.logs()}")  # fmt: skip

    # Three requests at once: one is accepted, the others refused while it holds
    # the topic's lease (taken before the answer, so they cannot all pass).
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: HTTP.post(
            api.url + "/api/v1/backfill", json={"topic": "ntjp.calls.v1"}, headers=OPERATOR,
            timeout=60), range(3)))  # fmt: skip
    accepted = [a for a in answers if a.status_code == 202]
    assert len(accepted) == 1, [a.text for a in answers]
    job = accepted[0].json()["id"]
    for refused in (a for a in answers if a is not accepted[0]):
        assert refused.status_code == 400 and "already running" in refused.json()["error"]
    # and a second backfill later too, while the first holds its lease
    again = HTTP.post(api.url + "/api/v1/backfill", json={"topic": "ntjp.calls.v1"},
                       headers=OPERATOR, timeout=60)  # fmt: skip
    assert again.status_code == 400 and "already running" in again.json()["error"]
    publisher = threading.Thread(target=publish, args=(s, "ntjp.calls.v1", later))
    publisher.start()  # live traffic during the replay and the swap

    def done() -> Any:
        p = HTTP.get(api.url + f"/api/v1/backfill/{job}", timeout=30).json()
        assert p["state"] != "failed", p
        return p["state"] == "done" or p["state"]

    api.wait_for(done, 300, f"the backfill done\n{cluster.logs()}")
    publisher.join(120)
    api.wait_for(lambda: _counted(api) == want_by_operation(calls) or _counted(api), 240,
                 f"every call counted once after the swap\n{cluster.logs()}")  # fmt: skip
    rows = _sql(cluster, "SELECT count(), uniqExact(event_id) FROM ntjp_calls")
    assert rows[0][0] == rows[0][1] == len({c["event_id"] for c in calls})
    # both workers stopped between batches for the swap, and said so in ClickHouse
    acked = _sql(cluster, "SELECT uniqExact(worker) FROM worker_heartbeats "
                 "WHERE paused_epoch > 0 AND topic LIKE '%ntjp.calls.v1'")  # fmt: skip
    assert acked[0][0] == 2, cluster.logs()
    full = {"from": "2024-01-01", "to": "2025-02-28"}
    unit = next(u for u in world.units if u["kind"] == "unit")
    cases = [
        {"report": rep, **full}
        for rep in (
            "events-per-month",
            "bookings-per-county",
            "share-per-service",
            "events-per-weekday",
            "events-by-hierarchy",
        )  # fmt: skip
    ] + [
        {"report": "events-by-hierarchy", **full, "level": "unit"},
        {"report": "events-per-month", **full, "unit": unit["hsa_id"]},
    ]
    check_reports(api, world, calls, cases)


def test_files_applied_through_the_api_while_workers_watch_are_applied_once(
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    cluster.base = cluster.base.with_(drop_dir=drop, drop_poll_seconds=1)
    # the API applies files of its own drop directory only (reconcile/confine.py)
    cluster.api.settings = cluster.api.settings.with_(drop_dir=drop)
    s = cluster.base
    world = make_world(seed=192, n_units=30)
    calls = make_calls(world, dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
                       dt.datetime(2024, 3, 11, tzinfo=dt.UTC), 6_000, seed=192)  # fmt: skip
    publish(s, "hsa.units.v1", world.units)
    publish(s, "ntjp.calls.v1", calls)
    cluster.start()
    cluster.worker()
    cluster.worker()
    api = cluster.api
    api.wait_for(lambda: _counted(api) == want_by_operation(calls) or "not yet", 180,
                 f"the calls ingested\n{cluster.logs()}")  # fmt: skip
    days = sorted({day_of(c) for c in calls})
    for day in days:
        write_file(drop, day, Counter((c["logical_address"], c["operation"])
                                      for c in calls if day_of(c) == day))  # fmt: skip
    time.sleep(2.5)  # the files are no longer growing: every applier takes them now

    outcomes: list[list[dict[str, Any]]] = []

    def run(body: dict[str, str]) -> None:
        r = HTTP.post(api.url + "/api/v1/reconciliation/run", json=body, headers=OPERATOR,
                      timeout=300)  # fmt: skip
        assert r.status_code == 200, r.text
        outcomes.append(r.json()["files"])

    # the API's own drop directory, named or not; any other folder is refused unseen
    r = HTTP.post(api.url + "/api/v1/reconciliation/run", json={"dir": str(drop.parent)},
                  headers=OPERATOR, timeout=30)  # fmt: skip
    assert r.status_code == 400 and str(drop.parent) not in r.text, r.text
    bodies = [{"dir": str(drop)}, {}, {"dir": "."}]
    runs = [threading.Thread(target=run, args=(b,)) for b in bodies]
    for t in runs:
        t.start()
    for t in runs:
        t.join(300)
    assert len(outcomes) == 3
    applied = Counter(f["name"] for o in outcomes for f in o if f["status"] == "applied")
    assert all(n <= 1 for n in applied.values()), applied

    def registered() -> Any:
        rows = _sql(cluster, "SELECT name, count() FROM reconciliation_files "
                    "WHERE status = 'applied' GROUP BY name")  # fmt: skip
        return len(rows) == len(days) or rows

    api.wait_for(registered, 60, "every file registered")
    time.sleep(3)  # the workers' watchers run again: they find every file known
    rows = _sql(cluster, "SELECT name, count() FROM reconciliation_files GROUP BY name")
    assert sorted(n for _, n in rows) == [1] * len(days), rows


def test_live_view_through_the_api_shows_shared_truth(cluster: Cluster) -> None:  # noqa: F811
    """`statflow api` has no consumer and no ingest of its own: every figure
    on its live view and /metrics comes from ClickHouse and the broker."""
    from synth.etj import make_cases, make_etj_world, make_logins
    from synth.sob import make_sob_world, make_transactions

    s = cluster.base
    now = dt.datetime.now(dt.UTC)
    hour_ago = now - dt.timedelta(hours=1)
    world = make_world(seed=193, n_units=20)
    publish(s, "hsa.units.v1", world.units)
    publish(s, "ntjp.calls.v1", [*make_calls(world, hour_ago, now, 2_000, seed=193),
                                 b'{"event_id": "broken"', b"not json"])  # fmt: skip
    publish(s, "sob.transactions.v1", make_transactions(make_sob_world(seed=194), hour_ago,
                                                        now, 40, seed=194))  # fmt: skip
    etj = make_etj_world(seed=195)
    publish(s, "etj.cases.v1", make_cases(etj, hour_ago, now, 60, seed=195))
    publish(s, "etj.logins.v1", make_logins(etj, hour_ago, now, 200, seed=196))
    cluster.start()
    cluster.worker()
    cluster.worker()
    api = cluster.api
    topics = {f"{s.topic_prefix}{t}" for t in
              ("ntjp.calls.v1", "sob.transactions.v1", "etj.cases.v1", "etj.logins.v1")}  # fmt: skip

    def shown() -> Any:
        v = HTTP.get(api.url + "/api/v1/live", headers=OPERATOR, timeout=60).json()
        rated = {r["topic"] for r in v["per_minute"] if r["events"] > 0}
        lag = [r for r in v["consumer_lag"] if r["topic"] in topics]
        workers = {w["worker"] for w in v["workers"]}
        owners = {r["worker"] for r in lag}
        dead = {r["topic"]: r["value"] for r in v["dead_letters"]}
        fresh = {r["topic"]: r for r in v["freshness"]}
        ok = (
            rated == topics
            and len(lag) == 4 * 6
            and all(r["value"] == 0 and r["end_offset"] > 0 for r in lag)
            and len(workers) == 2
            and owners == workers  # each worker's partitions, with their lag
            and dead.get(f"{s.topic_prefix}ntjp.calls.v1") == 2
            and set(fresh) == topics
            and all(
                f["age_seconds"] is not None and f["delay_p99_seconds"] is not None
                for f in fresh.values()
            )  # fmt: skip
        )
        return ok or {"rated": sorted(rated), "lag": len(lag), "workers": len(workers),
                      "owners": len(owners), "dead": dead}  # fmt: skip

    api.wait_for(shown, 240, f"the live view complete\n{cluster.logs()}")
    text = HTTP.get(api.url + "/metrics", timeout=60).text
    assert "statflow_workers_alive 2" in text
    calls = f"{s.topic_prefix}ntjp.calls.v1"
    assert f'statflow_dead_letters{{topic="{calls}"}} 2' in text
    assert text.count(f'statflow_partition_lag{{partition="0",topic="{calls}"}} 0') == 1
    assert f'statflow_ingest_delay_seconds{{quantile="0.99",topic="{calls}"}}' in text

    # a worker dies: its partitions keep their lag (it rises while nobody
    # owns them), then the other worker takes them over
    cluster.procs[0].kill()
    publish(s, "ntjp.calls.v1", make_calls(world, hour_ago, now, 600, seed=197))

    def behind() -> Any:
        v = HTTP.get(api.url + "/api/v1/live", headers=OPERATOR, timeout=60).json()
        return sum(r["value"] or 0 for r in v["consumer_lag"] if r["topic"] == calls) > 0 or "0"

    api.wait_for(behind, 60, "lag shown while partitions move")

    def one_left() -> Any:
        v = HTTP.get(api.url + "/api/v1/live", headers=OPERATOR, timeout=60).json()
        lag = [r for r in v["consumer_lag"] if r["topic"] == calls]
        owners = {r["worker"] for r in lag}
        return (len({w["worker"] for w in v["workers"]}) == 1 and len(owners) == 1
                and all(r["value"] == 0 for r in lag)) or owners  # fmt: skip

    api.wait_for(one_left, 180, f"the survivor owns every partition\n{cluster.logs()}")
