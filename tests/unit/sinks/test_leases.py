"""Lease decisions (sinks/leases.decide), pure: who holds a lease given its rows."""

from __future__ import annotations

import datetime as dt

from sinks.leases import FREE, LeaseRow, decide, may_claim

T0 = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def row(epoch: int, kind: str, holder: str, at: float, ttl: float = 30) -> LeaseRow:
    t = T0 + dt.timedelta(seconds=at)
    return LeaseRow(epoch, kind, holder, t, t + dt.timedelta(seconds=ttl))


def at(s: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=s)


def test_no_rows_is_free() -> None:
    assert decide([]) == FREE
    assert may_claim(FREE, "a", T0)


def test_the_highest_epoch_claimed_is_current() -> None:
    s = decide([row(1, "claim", "a", 0), row(2, "claim", "b", 40)])
    assert (s.holder, s.epoch) == ("b", 2)
    assert s.held(at(41)) and not s.held(at(71))


def test_two_claims_of_one_epoch_the_first_wins_whoever_reads() -> None:
    # only possible when a deduplication token fell out of the window: a late
    # claim never displaces the holder, and every reader agrees on who holds
    rows = [row(3, "claim", "late", 5), row(3, "claim", "first", 1)]
    assert decide(rows).holder == decide(list(reversed(rows))).holder == "first"
    tie = [row(3, "claim", "b", 1), row(3, "claim", "a", 1)]
    assert decide(tie).holder == decide(list(reversed(tie))).holder == "a"


def test_renewal_moves_expiry_and_a_fenced_holders_renewal_counts_nothing() -> None:
    rows = [row(1, "claim", "a", 0, 10), row(1, "renew", "a", 8, 10)]
    assert decide(rows).held_by("a", at(15))
    fenced = [*rows, row(2, "claim", "b", 30, 10), row(1, "renew", "a", 31, 100)]
    s = decide(fenced)
    assert s.holder == "b" and not s.held(at(45))


def test_release_frees_and_only_the_holder_can_release() -> None:
    rows = [row(1, "claim", "a", 0)]
    assert not decide([*rows, row(1, "release", "a", 1, 0)]).held(at(2))
    assert decide([*rows, row(1, "release", "b", 1, 0)]).held_by("a", at(2))


def test_may_claim_only_when_nobody_else_holds() -> None:
    s = decide([row(1, "claim", "a", 0, 10)])
    assert not may_claim(s, "b", at(5))
    assert may_claim(s, "a", at(5))
    assert may_claim(s, "b", at(11))  # expired: a stopped holder loses it


def test_a_swap_waits_for_every_live_worker_that_has_not_stopped() -> None:
    from streams.pause import Beat, waiting_for

    now = at(100)
    beats = [
        Beat("stopped", at(99), at(99)),  # acknowledged this pause's epoch
        Beat("running", at(98), None),  # alive, may be writing a batch: wait
        Beat("dead", at(60), None),  # silent past the window: its partitions move
    ]
    assert waiting_for(beats, now, dt.timedelta(seconds=30)) == ["running"]
    assert waiting_for([], now) == []
