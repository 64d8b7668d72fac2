"""Fencing on real ClickHouse (chDB locally, the server under make test-docker):
a worker that stalled while another claimed its partition has its late rows
and its late checkpoint refused, and every event counts once.

The stall is placed where it does harm: after the stalled worker's seen-id
lookup, before its insert (the fault point `sink.before-insert`); the new
owner claims, reads the checkpoint and writes the same events meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from core import faults, metrics
from core.errors import PartitionFenced
from core.settings import Settings
from sinks.clickhouse import ClickHouseStore
from sinks.events import EventSink
from sinks.fencing import Fence
from sinks.migrate import migrate
from sinks.ntjp import CALLS_TABLE
from tests.integration.test_crash_repair import TOPIC, batch, totals


@pytest.fixture
def store(store_settings: Callable[..., Settings]) -> Iterator[ClickHouseStore]:
    s = ClickHouseStore(store_settings("fencing"))
    try:
        migrate(s)
        yield s
    finally:
        s.close()


def stall_at_insert(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]) -> None:
    """Run `meanwhile` (another worker's takeover) where the writer stands
    between its seen-id lookup and its insert, once."""
    real = faults.point
    done: list[bool] = []

    def point(name: str) -> None:
        if name == "sink.before-insert" and not done:
            done.append(True)
            meanwhile()
        real(name)

    monkeypatch.setattr(faults, "point", point)


def takeover(store: ClickHouseStore, start: int, n: int) -> Callable[[], None]:
    def run() -> None:
        b, sink = Fence(store, TOPIC, "worker-b"), EventSink(store, CALLS_TABLE)
        b.claim(0)
        assert sink.resume(TOPIC, 0) == start
        sink.write_many([batch(start, n)], {}, b)
        b.checkpoint(TOPIC, {0: start + n})

    return run


def test_without_a_fence_the_late_insert_counts_twice(
    store: ClickHouseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What fencing prevents: the stalled writer's seen-id lookup ran before
    the new owner's rows landed, so its insert adds them again."""
    sink = EventSink(store, CALLS_TABLE)
    stall_at_insert(monkeypatch, takeover(store, 0, 50))
    sink.write_many([batch(0, 60)], {})
    raw, daily, _ = totals(store)
    assert (raw, daily) == (110, 110)


def test_a_stalled_writer_is_refused_after_a_takeover(
    store: ClickHouseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, sink = Fence(store, TOPIC, "worker-a"), EventSink(store, CALLS_TABLE)
    a.claim(0)
    sink.write_many([batch(0, 20)], {}, a)
    a.checkpoint(TOPIC, {0: 20})
    before = metrics.value("statflow_fenced_writes_total", topic=TOPIC, stage="rows")

    stall_at_insert(monkeypatch, takeover(store, 20, 50))
    with pytest.raises(PartitionFenced) as refused:
        sink.write_many([batch(20, 60)], {}, a)  # a's seen-id lookup predates b's rows
    assert refused.value.partitions == (0,)
    assert totals(store) == (70, 70, 70)  # b's 50 once, nothing of a's late write
    assert metrics.value("statflow_fenced_writes_total", topic=TOPIC, stage="rows") == before + 1

    with pytest.raises(PartitionFenced):
        a.checkpoint(TOPIC, {0: 80})  # a's late checkpoint
    assert sink.checkpoints.get(TOPIC, 0) == 70

    b = Fence(store, TOPIC, "worker-c")
    b.claim(0)  # Kafka hands the partition on; the next owner reads on from b's checkpoint
    assert sink.resume(TOPIC, 0) == 70
    rest = batch(20, 60)  # Kafka delivers from b's checkpoint; what b wrote is seen
    sink.write_many([rest], {}, b)
    b.checkpoint(TOPIC, {0: 80})
    assert totals(store) == (80, 80, 80) and rest.duplicates == 50


def test_the_checkpoint_is_a_check_and_set_in_the_server(store: ClickHouseStore) -> None:
    """A claim landing between the client's check and the insert still wins:
    the insert itself compares epochs."""
    a, b = Fence(store, TOPIC, "worker-a"), Fence(store, TOPIC, "worker-b")
    a.claim(0)
    a.claim(1)
    a.checkpoint(TOPIC, {0: 10, 1: 10})
    b.claim(0)
    a.check = lambda *args, **kwargs: None  # type: ignore[method-assign]  # the check passed just before b's claim
    a.checkpoint(TOPIC, {0: 99, 1: 20})
    sink = EventSink(store, CALLS_TABLE)
    assert sink.checkpoints.get(TOPIC, 0) == 10  # refused in the server
    assert sink.checkpoints.get(TOPIC, 1) == 20  # still a's partition
    b.checkpoint(TOPIC, {0: 30})
    assert sink.checkpoints.get(TOPIC, 0) == 30


def test_racing_claims_leave_one_newest_owner(store: ClickHouseStore) -> None:
    fences = [Fence(store, TOPIC, f"w{i}") for i in range(6)]
    start = threading.Barrier(len(fences))
    epochs: dict[str, int] = {}

    def claim(f: Fence) -> None:
        start.wait()
        epochs[f.holder] = f.claim(3)

    threads = [threading.Thread(target=claim, args=(f,)) for f in fences]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(epochs.values())) == len(fences), "every claim has an epoch of its own"
    newest = max(epochs, key=lambda h: epochs[h])
    allowed: list[str] = []
    for f in fences:
        try:
            f.check([3], "rows")
            allowed.append(f.holder)
        except PartitionFenced:
            pass
    assert allowed == [newest]


def test_claiming_again_on_reassignment_takes_the_partition_back(
    store: ClickHouseStore,
) -> None:
    a, b = Fence(store, TOPIC, "worker-a"), Fence(store, TOPIC, "worker-b")
    first = a.claim(0)
    b.claim(0)
    again = a.claim(0)  # Kafka gives it back to a in a later rebalance
    assert again > first
    a.check([0], "rows")
    with pytest.raises(PartitionFenced):
        b.check([0], "rows")
