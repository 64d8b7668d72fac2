"""The fencing rule (sinks/fencing.py), pure: which partitions a worker's late
write may no longer touch, and how the next epoch is chosen."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from core.errors import PartitionFenced
from sinks.fencing import Fence, Refusal, fence_name, next_epoch, refusals


def test_a_newer_claim_refuses_the_older_claimer() -> None:
    assert refusals({0: 5, 1: 7}, {0: 9, 1: 7}) == [Refusal(0, 5, 9)]


def test_own_or_older_claims_do_not_refuse() -> None:
    assert refusals({0: 5, 1: 7}, {0: 5, 1: 6}) == []


def test_a_partition_nobody_claimed_is_not_refused() -> None:
    # a store written before fencing existed, or claims the TTL removed
    assert refusals({0: 5}, {}) == []


def test_a_partition_never_claimed_here_is_refused_once_anyone_claimed_it() -> None:
    assert refusals({3: 0}, {3: 1}) == [Refusal(3, 0, 1)]


def test_refusals_are_in_partition_order() -> None:
    got = refusals({2: 1, 0: 1, 1: 1}, {0: 2, 1: 1, 2: 3})
    assert [r.partition for r in got] == [0, 2]


def test_next_epoch_grows_past_the_top_and_the_clock() -> None:
    assert next_epoch(0, 1_700_000_000_000) == 1_700_000_000_000
    # two claims in one millisecond: the second is still above the first
    assert next_epoch(1_700_000_000_000, 1_700_000_000_000) == 1_700_000_000_001
    # old rows expired (TTL): the clock alone keeps the epoch above every old one
    assert next_epoch(0, 1_800_000_000_000) > 1_700_000_000_001


def test_names_per_topic_and_partition() -> None:
    assert fence_name("ntjp.calls.v1", 3) == "checkpoint/ntjp.calls.v1/3"


class _Fence(Fence):
    """A fence whose ClickHouse answer is given: counts the questions."""

    def __init__(self, newest: dict[int, int]) -> None:
        super().__init__(None, "t", "me")  # type: ignore[arg-type]  # never queried
        self.newest, self.asked = newest, 0

    def current(self, partitions: Sequence[int]) -> dict[int, int]:
        self.asked += 1
        return self.newest


def test_a_fresh_pass_stands_for_the_next_stage_but_a_refusal_never_does() -> None:
    f = _Fence({0: 1})
    f.epochs = {0: 1}
    f.check([0], "rows")
    f.check([0], "checkpoint", stale_only=True)  # just passed: not asked again
    assert f.asked == 1
    f.newest = {0: 2}  # another worker claims
    with pytest.raises(PartitionFenced):
        f.check([0], "rows")
    with pytest.raises(PartitionFenced):
        f.check([0], "checkpoint", stale_only=True)  # the earlier pass no longer stands
    assert f.asked == 3
