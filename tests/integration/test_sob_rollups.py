"""The SOB day rollup the reports read (migration 0018, sinks/sob_rollups.py)
on real chDB: late transactions move counts to other days and attributes,
batches in any order and re-delivered give the answers a full rebuild gives,
and a crash between a batch's rows and its recompute is healed by the batch
Kafka delivers again."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pytest

from core.settings import Settings
from reports import engine
from schemas.events import SobTransaction
from schemas.pipeline import Decoded, RawMessage
from sinks import sob_rollups
from sinks.clickhouse import ClickHouseStore
from sinks.events import EventSink
from sinks.migrate import migrate
from sinks.sob import SOB_TABLE, sob_columns

PROCESSES = ("P1", "P2")
REPORTS = (
    "moments-per-month", "moments-per-process", "moments-per-weekday", "ongoing-over-time",
    "ongoing-per-moment", "completed-per-closing-reason", "moments-per-county",
)  # fmt: skip


@pytest.fixture
def store(store_settings: Callable[..., Settings]) -> ClickHouseStore:
    s = ClickHouseStore(store_settings("sobrollups"))
    migrate(s)
    return s


def tx(
    eid: str, case: str, status: str, when: str, process: str = "P1", **kw: Any
) -> SobTransaction:
    return SobTransaction(
        event_id=eid, occurred_at=dt.datetime.fromisoformat(when), case_id=case,
        case_type="Process", status=status, process_name=process, moment_name="M",
        care_provider_id="CP", care_unit_id="U", practitioner_id=kw.pop("by", None),
        patient_id=kw.pop("patient", None), **kw,
    )  # fmt: skip


def write(store: ClickHouseStore, events: list[SobTransaction], first: int = 0) -> None:
    """One batch through the sink, as the ingest loop writes it."""
    batch: Decoded[SobTransaction] = Decoded("sob", 0, first + len(events), first)
    batch.accepted = [
        (RawMessage("sob", 0, first + i, None, None), e) for i, e in enumerate(events)
    ]
    EventSink(store, SOB_TABLE).write(batch, {})


def answer(
    store: ClickHouseStore, report: str, f: str = "2024-01-01", t: str = "2024-03-31"
) -> Any:
    return engine.run("stod-och-behandling", report, [("from", f), ("to", t)], store).rows


def test_a_late_first_transaction_moves_the_case_to_its_process_and_day(
    store: ClickHouseStore,
) -> None:
    write(store, [tx("a1", "A", "Inprogress", "2024-02-10T09:00:00+01:00"),
                  tx("a2", "A", "Done", "2024-03-05T09:00:00+01:00")])  # fmt: skip
    assert answer(store, "moments-per-month") == [
        ["2024-01", 0, 0, 0],
        ["2024-02", 1, 0, 0],
        ["2024-03", 0, 1, 0],
    ]
    # Arrives late: an earlier start, 23:30 UTC on 31 January = 1 February in
    # Stockholm, under another process (the first transaction names it).
    write(store, [tx("a0", "A", "Inprogress", "2024-01-31T23:30:00+00:00", process="P2")], 2)
    assert answer(store, "moments-per-month") == [
        ["2024-01", 0, 0, 0],
        ["2024-02", 1, 0, 0],
        ["2024-03", 0, 1, 0],
    ]
    assert answer(store, "moments-per-process") == [["P2", 1, 1, 1.0]]
    per_day = store.query_rows(
        "SELECT day, kind, process_name, sum(n) FROM sob_moments_daily WHERE kind != '' "
        "AND (day, version) IN (SELECT day, max(version) FROM sob_moments_daily GROUP BY day) "
        "GROUP BY day, kind, process_name ORDER BY day, kind"
    )
    assert per_day == [
        (dt.date(2024, 2, 1), "s", "P2", 1),
        (dt.date(2024, 3, 5), "c", "P2", 1),
    ]  # the 10 February start is gone from its day, not only outweighed
    # ... and one more, earlier still, back into January.
    write(store, [tx("ax", "A", "Inprogress", "2024-01-31T22:30:00+00:00", process="P1")], 3)
    assert answer(store, "moments-per-month") == [
        ["2024-01", 1, 0, 0],
        ["2024-02", 0, 0, 0],
        ["2024-03", 0, 1, 0],
    ]
    assert answer(store, "ongoing-over-time") == [["2024-01", 1], ["2024-02", 1], ["2024-03", 0]]


def _random_stream(seed: int) -> list[SobTransaction]:
    rng = random.Random(seed)
    out = []
    for c in range(60):
        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=rng.randrange(2000))
        for k in range(rng.randrange(1, 5)):
            status = rng.choice(("Inprogress", "Done", "Paused", "Inprogress"))
            when = start + dt.timedelta(hours=rng.randrange(-200, 1500))
            out.append(tx(f"e{c}-{k}", f"C{c}", status, when.isoformat(),
                          process=rng.choice(PROCESSES), by=rng.choice(("s1", "s2", None)),
                          patient=f"p{rng.randrange(30)}",
                          closing_reason=rng.choice(("Klar", None))))  # fmt: skip
    return out


def test_any_order_and_redelivery_answer_as_a_full_rebuild(store: ClickHouseStore) -> None:
    events = _random_stream(17)
    rng = random.Random(5)
    shuffled = events[:]
    rng.shuffle(shuffled)
    offset = 0
    while shuffled:
        n = rng.randrange(1, 12)
        batch, shuffled = shuffled[:n], shuffled[n:]
        if rng.random() < 0.3:
            batch = batch + rng.sample(events, 3)  # re-published copies
        write(store, batch, offset)
        offset += len(batch)
    incremental = {r: answer(store, r) for r in REPORTS}
    assert any(row[1] for row in incremental["moments-per-month"])
    sob_rollups.rebuild(store)
    assert {r: answer(store, r) for r in REPORTS} == incremental
    # the period's days only: a period inside the data answers the same too
    part = answer(store, "moments-per-month", "2024-02-01", "2024-02-29")
    assert part == [r for r in incremental["moments-per-month"] if r[0] == "2024-02"]


def test_a_crash_before_the_recompute_is_healed_by_the_redelivered_batch(
    store: ClickHouseStore,
) -> None:
    write(store, [tx("b1", "B", "Inprogress", "2024-02-10T09:00:00+01:00")])
    late = [tx("b0", "B", "Inprogress", "2024-01-15T09:00:00+01:00", process="P2")]
    # What a worker killed at the fault point sink.before-derive leaves: the
    # batch's rows are in (with their seen ids), the rollup is not.
    rows = [(RawMessage("sob", 0, 1, None, None), late[0])]
    store.insert_columns("sob_transactions", sob_columns(rows, {}))
    assert answer(store, "moments-per-month")[1] == ["2024-02", 1, 0, 0]
    write(store, late, 1)  # Kafka delivers the batch again: all of it seen before
    assert answer(store, "moments-per-month") == [
        ["2024-01", 1, 0, 0],
        ["2024-02", 0, 0, 0],
        ["2024-03", 0, 0, 0],
    ]


def test_a_stale_mark_left_by_a_killed_rebuild_is_healed(store: ClickHouseStore) -> None:
    write(store, [tx("c1", "C", "Inprogress", "2024-02-10T09:00:00+01:00")])
    sob_rollups.mark_stale(store)
    store.command("TRUNCATE TABLE sob_moments_daily")  # a swap whose rebuild never ran
    assert sob_rollups.is_stale(store)
    assert sob_rollups.heal(store)
    assert not sob_rollups.is_stale(store) and not sob_rollups.heal(store)
    assert answer(store, "moments-per-month")[1] == ["2024-02", 1, 0, 0]
