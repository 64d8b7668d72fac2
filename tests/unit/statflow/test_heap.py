"""A serving process's startup heap is frozen: not walked by later collections."""

from __future__ import annotations

import gc

from statflow.heap import freeze_startup_heap


def test_the_startup_heap_is_frozen_and_later_garbage_still_collected() -> None:
    try:
        freeze_startup_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 1000
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # allocated after the freeze: collected as before
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
