"""Leases on real ClickHouse (chDB locally, the server under make test-docker):
racing claims of one epoch leave exactly one holder, whoever reads."""

from __future__ import annotations

import threading
import time

from sinks.clickhouse import ClickHouseStore
from sinks.leases import Leases


def test_two_claims_of_one_epoch_leave_one_row(migrated_store: ClickHouseStore) -> None:
    leases = Leases(migrated_store)
    # both read the lease free and claim epoch 1: the token lets one land
    leases._insert("x", 1, "claim", "a", 30, "lease/x/1")  # noqa: SLF001
    leases._insert("x", 1, "claim", "b", 30, "lease/x/1")  # noqa: SLF001
    rows = migrated_store.query_rows("SELECT holder FROM leases WHERE name = 'x'")
    assert rows == [("a",)]
    state, now = leases.state("x")
    assert state.held_by("a", now) and leases.acquire("x", "b", 30) is None


def test_racing_processes_one_winner_per_epoch(migrated_store: ClickHouseStore) -> None:
    leases = Leases(migrated_store)
    for round_ in range(3):
        won: list[str] = []
        start = threading.Barrier(8)

        def claim(who: str, start: threading.Barrier = start, won: list[str] = won) -> None:
            start.wait()
            if leases.acquire("race", who, 30) is not None:
                won.append(who)

        threads = [threading.Thread(target=claim, args=(f"p{round_}-{i}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1, won
        state, now = leases.state("race")
        assert state.held_by(won[0], now) and state.epoch == round_ + 1
        leases.release("race", won[0], state.epoch)


def test_expiry_renewal_and_fencing(migrated_store: ClickHouseStore) -> None:
    leases = Leases(migrated_store)
    a = leases.acquire("t", "a", 0.5)
    assert a is not None and leases.acquire("t", "b", 0.5) is None
    assert leases.renew("t", "a", a.epoch, 1.5)
    time.sleep(0.7)
    assert leases.acquire("t", "b", 0.5) is None  # renewed: still a's
    time.sleep(1.0)
    b = leases.acquire("t", "b", 30)  # a stopped renewing: b takes the next epoch
    assert b is not None and b.epoch == a.epoch + 1
    assert not leases.renew("t", "a", a.epoch, 30)  # a's late renewal is refused
    state, now = leases.state("t")
    assert state.held_by("b", now)
