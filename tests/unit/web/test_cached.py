"""web/cached.Shared: one computation serves every request of its second."""

from __future__ import annotations

import asyncio

import pytest

from web.cached import Shared


class Counter:
    def __init__(self, fail: bool = False) -> None:
        self.calls, self.fail = 0, fail
        self.release = asyncio.Event()

    async def __call__(self) -> int:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise RuntimeError("the store is away")
        return self.calls


async def test_requests_at_once_share_one_computation() -> None:
    compute = Counter()
    shared = Shared(compute, max_age=60)
    waiting = [asyncio.ensure_future(shared.get()) for _ in range(5)]
    await asyncio.sleep(0)
    compute.release.set()
    assert await asyncio.gather(*waiting) == [1] * 5
    assert await shared.get() == 1 and compute.calls == 1  # still young: served again


async def test_an_old_result_is_computed_again() -> None:
    compute = Counter()
    compute.release.set()
    shared = Shared(compute, max_age=0.0)
    assert [await shared.get(), await shared.get()] == [1, 2]


async def test_a_failure_is_not_kept() -> None:
    compute = Counter(fail=True)
    compute.release.set()
    shared = Shared(compute, max_age=60)
    with pytest.raises(RuntimeError):
        await shared.get()
    compute.fail = False
    assert await shared.get() == 2


async def test_a_cancelled_request_leaves_the_others_their_answer() -> None:
    compute = Counter()
    shared = Shared(compute, max_age=60)
    first, second = asyncio.ensure_future(shared.get()), asyncio.ensure_future(shared.get())
    await asyncio.sleep(0)
    first.cancel()
    compute.release.set()
    assert await second == 1
    assert first.cancelled()
