"""One process's ingest loops share one heartbeat insert and one look at
their pause leases per round (streams/pause.PauseWatch), on real chDB: each
loop still stops for its own topic's pause, acknowledges it itself, and
goes on when it is released; the other topics' loops never stop."""

from __future__ import annotations

import asyncio

from sinks.clickhouse import ClickHouseStore
from sinks.leases import FREE, Leases
from streams.pause import PausePoint, PauseWatch, beats, pause_lease


def test_several_leases_read_at_once_equal_each_read_alone(
    migrated_store: ClickHouseStore,
) -> None:
    leases = Leases(migrated_store)
    held = leases.acquire("pause/a", "backfill-1", 60)
    gone = leases.acquire("pause/b", "backfill-2", 60)
    assert held is not None and gone is not None
    leases.release("pause/b", "backfill-2", gone.epoch)
    names = ["pause/a", "pause/b", "pause/never"]
    states, _ = leases.states(names)
    assert states == {n: leases.state(n)[0] for n in names}
    assert states["pause/never"] == FREE and states["pause/a"].holder == "backfill-1"


def test_loops_stop_for_their_own_topic_only(migrated_store: ClickHouseStore) -> None:
    store = migrated_store

    async def scenario() -> None:
        watch = PauseWatch(store, "worker-1")
        a, b = PausePoint(watch, "t.a"), PausePoint(watch, "t.b")
        await a([0, 1])  # first calls: each heartbeats and looks itself
        await b([2])
        leases = Leases(store)
        pause = await asyncio.to_thread(leases.acquire, pause_lease("t.a"), "backfill", 60)
        assert pause is not None

        async def loop(point: PausePoint, partitions: list[int], rounds: list[int]) -> None:
            while True:
                await point(partitions)
                rounds.append(1)
                await asyncio.sleep(0.05)

        done_a: list[int] = []
        done_b: list[int] = []
        tasks = [asyncio.create_task(loop(a, [0, 1], done_a)),
                 asyncio.create_task(loop(b, [2], done_b))]  # fmt: skip
        acked = []
        for _ in range(100):
            await asyncio.sleep(0.1)
            acked = [x for x in await asyncio.to_thread(beats, store, "t.a", pause.epoch)
                     if x.acked_at is not None]  # fmt: skip
            if acked:
                break
        assert [x.worker for x in acked] == ["worker-1"], "loop a never acknowledged the pause"
        stopped_at = len(done_a)
        await asyncio.sleep(1.5)
        assert len(done_a) == stopped_at, "loop a went on while its topic was paused"
        going = len(done_b)
        await asyncio.sleep(0.5)
        assert len(done_b) > going, "loop b stopped for another topic's pause"
        await asyncio.to_thread(leases.release, pause_lease("t.a"), "backfill", pause.epoch)
        await asyncio.sleep(1.5)
        assert len(done_a) > stopped_at, "loop a did not go on after the release"
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(scenario())
    # the watch's heartbeats: both topics' rows in one insert (one time for the pair)
    rows = store.query_rows(
        "SELECT at, groupArray(topic) FROM worker_heartbeats WHERE worker = 'worker-1' "
        "AND paused_epoch = 0 GROUP BY at HAVING length(groupArray(topic)) = 2"
    )
    assert rows and all(sorted(topics) == ["t.a", "t.b"] for _, topics in rows), rows
