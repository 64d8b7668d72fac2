"""What the report layer needs from storage: rows for parameterised SQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar


class Reader(Protocol):
    def query_rows(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> list[tuple[Any, ...]]: ...


T = TypeVar("T")

# Reads of one answer that do not wait for each other (a report's own query,
# its data-quality notes, the data's age; a drill-down's lattice and rows) run
# at once, each on a reader connection of its own: with a free core they cost
# the longest one's time, not the sum. A thread waiting here holds no reader
# place (ClickHouseStore takes one per query), so no wait can close a circle.
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="statflow-read")


def beside(fn: Callable[..., T], *args: Any) -> Future[T]:
    """`fn(*args)` started on another thread; `.result()` gives its value or
    raises its error."""
    return _POOL.submit(fn, *args)
