"""The oracles' memo (tests/oracle/parsing.by_content): the same records read
once, changed records read again, so remembering never gives a stale answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from tests.oracle.parsing import by_content


def counting() -> tuple[list[int], Any]:
    calls: list[int] = []

    @by_content
    def read(records: Sequence[dict[str, Any]]) -> tuple[str, ...]:
        calls.append(1)
        return tuple(str(r["v"]) for r in records)

    return calls, read


def test_equal_records_are_read_once_changed_ones_again() -> None:
    calls, read = counting()
    records = [{"v": 1}, {"v": 2}]
    assert read(records) == ("1", "2")
    assert read([{"v": 1}, {"v": 2}]) == ("1", "2")  # another list, same content
    assert len(calls) == 1
    records[1]["v"] = 3  # changed in place: read again, never the old answer
    assert read(records) == ("1", "3")
    records.append({"v": 4})
    assert read(records) == ("1", "3", "4")
    assert len(calls) == 3


def test_only_the_last_few_inputs_are_kept() -> None:
    calls, read = counting()
    for i in range(6):
        read([{"v": i}])
    read([{"v": 5}])
    assert len(calls) == 6
    read([{"v": 0}])  # pushed out by the later ones
    assert len(calls) == 7


def test_records_json_cannot_express_are_read_every_time() -> None:
    calls, read = counting()
    odd = [{"v": {1, 2}}]  # a set: no JSON, no key
    read(odd)
    read(odd)
    assert len(calls) == 2
    read([{"v": dt.date(2024, 1, 1)}])  # dates are JSON to orjson: remembered
    read([{"v": dt.date(2024, 1, 1)}])
    assert len(calls) == 3
