"""The live view's arithmetic (reports/live.py), pure: lag from the broker's
end offsets against the ClickHouse checkpoints, workers alive and what they
own, freshness and ingest-delay percentiles."""

from __future__ import annotations

import datetime as dt

from reports.live import alive_workers, freshness_row, lag_rows, percentile

NOW = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def ago(s: float) -> dt.datetime:
    return NOW - dt.timedelta(seconds=s)


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([(10.0, 1)], 0.99) == 10.0
    hist = [(30.0, 1), (10.0, 98), (20.0, 1)]  # 100 values, unsorted buckets
    assert percentile(hist, 0.5) == 10.0
    assert percentile(hist, 0.99) == 20.0
    assert percentile(hist, 1.0) == 30.0
    assert percentile([(1.0, 1), (2.0, 1)], 0.5) == 1.0  # rank ceil(0.5 * 2) = 1


def test_lag_is_end_minus_checkpoint_and_a_dead_workers_partition_keeps_it() -> None:
    ends = {("t", 0): 100, ("t", 1): 50, ("u", 0): 7, ("other", 0): 9}
    cps = {("t", 0): 90, ("t", 1): 60}  # a checkpoint past a stale end: 0, not negative
    rows = lag_rows(ends, cps, {("t", 0): "w1"}, ["t", "u"])
    assert [(r["topic"], r["partition"], r["value"], r["worker"]) for r in rows] == [
        ("t", 0, 10, "w1"), ("t", 1, 0, ""), ("u", 0, 7, ""),
    ]  # fmt: skip
    unknown = lag_rows(None, cps, {}, ["t"])
    assert [r["value"] for r in unknown] == [None, None]
    assert [r["checkpoint"] for r in unknown] == [90, 60]


def test_workers_alive_and_the_partitions_each_owns() -> None:
    rows = [
        ("w1", "t", ago(40), [0, 1, 2], 0),  # gone: its partitions moved
        ("w2", "t", ago(3), [0, 1], 0),
        ("w3", "t", ago(1), [2], 4),  # paused for a backfill
    ]
    workers, owners = alive_workers(rows, NOW, dt.timedelta(seconds=30))
    assert [(w["worker"], w["partitions"], w["paused"]) for w in workers] == [
        ("w2", [0, 1], False), ("w3", [2], True),
    ]  # fmt: skip
    assert owners == {("t", 0): "w2", ("t", 1): "w2", ("t", 2): "w3"}


def test_freshness_row() -> None:
    row = freshness_row("t", ago(12.5), NOW, [(800.0, 50), (1500.0, 49), (9000.0, 1)])
    assert row["age_seconds"] == 12.5 and row["newest_event"] == "2026-01-01T11:59:47Z"
    assert (row["delay_p50_seconds"], row["delay_p99_seconds"]) == (0.8, 1.5)
    assert row["delay_events"] == 100
    empty = freshness_row("t", None, NOW, [])
    assert empty["age_seconds"] is None and empty["delay_p99_seconds"] is None


def test_shared_metrics_render_the_views_figures_exactly() -> None:
    from reports.live import shared_metrics

    view = {
        "consumer_lag": [
            {"topic": "t", "partition": 0, "value": 1234568},
            {"topic": "t", "partition": 1, "value": None},  # broker away: not a 0
        ],
        "dead_letters": [{"topic": "t", "value": 3, "last_hour": 1}],
        "freshness": [freshness_row("t", ago(2), NOW, [(800.0, 1)])],
        "workers": [{"worker": "w1", "topic": "t", "partitions": [0, 1]}],
    }
    text = shared_metrics(view)
    assert 'statflow_partition_lag{partition="0",topic="t"} 1234568' in text
    assert 'partition="1"' not in text
    assert 'statflow_dead_letters{topic="t"} 3' in text
    assert 'statflow_freshness_seconds{topic="t"} 2' in text
    assert 'statflow_ingest_delay_seconds{quantile="0.99",topic="t"} 0.8' in text
    assert "statflow_workers_alive 1" in text
    assert 'statflow_worker_partitions{topic="t",worker="w1"} 2' in text
    assert "# TYPE statflow_partition_lag gauge" in text
