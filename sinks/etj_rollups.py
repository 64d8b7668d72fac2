"""The 1177 e-services rollups (migration 0020) kept exact by the mechanism of
sinks/day_rollups.py: cases per day (`etj_cases_daily`) and each account's
county runs (`etj_account_runs`).

Every day a case of the batch ever had an event on is recomputed whole from
the lifecycle as it is now (view `etj_cases_day_rows`): a case's rows lie
only on its event days (its milestones' days, and for a late case each event
day), so that set holds the days it left as well as those it moved to. The
e-services nightly file is compared with the stream, never applied, so only
the stream changes the rollup.

An account's runs are recomputed whole for every account a login batch names
or an accounts batch re-publishes (deleted, tombstoned): a late login can
change them on any day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from schemas.etj import EtjCase, EtjLogin
from sinks.clickhouse import ClickHouseStore
from sinks.day_rollups import DayRollup, KeyedRollup

TABLES = ("etj_cases_daily",)
ACCOUNT_TABLES = ("etj_account_runs",)

ROLLUP = DayRollup(
    table="etj_cases_daily",
    rows_view="etj_cases_day_rows",
    days_of_cases=(
        "SELECT DISTINCT toDate(occurred_at, 'Europe/Stockholm') FROM etj_cases "
        "WHERE case_id IN {ids:Array(String)}"
    ),
    raw_days="SELECT DISTINCT toDate(occurred_at, 'Europe/Stockholm') FROM etj_cases",
)


def refresh_days(store: ClickHouseStore, events: Sequence[EtjCase]) -> int:
    """Recompute the rollup's days the batch's cases touch."""
    return ROLLUP.refresh(store, (e.case_id for e in events))


# One row per account (migration 0020): its runs of one county.
ACCOUNT_RUNS = KeyedRollup(table="etj_account_runs", rows_view="etj_account_runs_rows")


def refresh_login_accounts(store: ClickHouseStore, events: Sequence[EtjLogin]) -> int:
    """Recompute the runs of the batch's accounts."""
    return ACCOUNT_RUNS.refresh(store, (e.account_id for e in events))


def refresh_accounts(store: ClickHouseStore, columns: Mapping[str, Sequence[Any]]) -> int:
    """After an accounts batch (records, deletions, tombstones) is written."""
    return ACCOUNT_RUNS.refresh(store, (str(a) for a in columns.get("account_id", ())))
