"""SOB transactions in ClickHouse: the columns of a batch (the lifecycle is a
view; the day rollup the reports read is kept by sinks/sob_rollups.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from schemas.events import SobTransaction
from schemas.pipeline import Record
from sinks import sob_rollups
from sinks.clickhouse import ClickHouseStore
from sinks.events import Derived, EventTable, contract_columns

_CONTRACT = contract_columns(SobTransaction)


def sob_columns(
    accepted: Sequence[tuple[Record, SobTransaction]], _: Mapping[str, str]
) -> dict[str, list[Any]]:
    return _CONTRACT(accepted)


def refresh_days(store: ClickHouseStore, events: Sequence[SobTransaction]) -> int:
    """Recompute the rollup's days the batch's moments touch."""
    return sob_rollups.refresh(store, (e.case_id for e in events if e.case_type == "Process"))


SOB_TABLE: EventTable[SobTransaction] = EventTable(
    "sob_transactions",
    sob_columns,
    derived=Derived(
        sob_rollups.TABLES,
        refresh_days,
        sob_rollups.rebuild,
        sob_rollups.mark_stale,
        sob_rollups.heal,
    ),
)
