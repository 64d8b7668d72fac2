"""Pure arithmetic of the benchmarks: percentiles, rates, freshness matching, metrics text."""

import pytest

from bench.stats import (
    Progress,
    Tick,
    first_visible,
    percentile,
    prometheus_value,
    rate,
    ratio,
    steady_rate,
    summary,
    visibility_delays,
)


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    xs = [15, 20, 35, 40, 50]
    assert percentile(xs, 0) == 15
    assert percentile(xs, 100) == 50
    assert percentile(xs, 50) == 35
    assert percentile(xs, 40) == pytest.approx(29.0)  # numpy.percentile(xs, 40)
    assert percentile(xs, 99) == pytest.approx(49.6)
    assert percentile([7.0], 99) == 7.0


def test_percentile_ignores_input_order() -> None:
    assert percentile([3, 1, 2], 50) == 2


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_refuses_nonsense(q: float) -> None:
    with pytest.raises(ValueError):
        percentile([1, 2], q)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summary() -> None:
    s = summary([1.0, 2.0, 3.0, 4.0])
    assert s["n"] == 4 and s["min"] == 1 and s["max"] == 4 and s["mean"] == 2.5
    assert s["p50"] == 2.5 and set(s) >= {"p95", "p99"}
    assert summary([]) == {"n": 0}


def test_rate_and_ratio() -> None:
    assert rate(1000, 0.5) == 2000
    with pytest.raises(ValueError):
        rate(10, 0)
    assert ratio(40, 50) == 0.8
    assert ratio(1, 0) is None


def test_steady_rate_starts_at_the_first_progress() -> None:
    samples = [Progress(10.0, 0), Progress(11.0, 0), Progress(12.0, 20), Progress(14.0, 60),
               Progress(16.0, 100)]  # fmt: skip
    r = steady_rate(samples, 100)
    assert r["events_per_s"] == pytest.approx(80 / 4)
    assert r["measured_events"] == 80 and r["measured_seconds"] == 4
    assert (r["t_first"], r["t_last"]) == (12.0, 16.0)


def test_steady_rate_refuses_what_cannot_be_measured() -> None:
    with pytest.raises(ValueError, match="never reached"):
        steady_rate([Progress(1, 5), Progress(2, 9)], 10)
    with pytest.raises(ValueError, match="before the second sample"):
        steady_rate([Progress(1, 10)], 10)


def test_visibility_needs_the_whole_tick_in_its_bucket() -> None:
    ticks = [Tick(1.0, "a", 10), Tick(1.1, "b", 10), Tick(1.2, "a", 20), Tick(1.3, "c", 5)]
    polls = [
        (1.05, {"a": 10}),  # a's first tick in
        (1.5, {"a": 15, "b": 10}),  # b in; a's second tick only half
        (2.0, {"a": 20, "b": 10}),
    ]
    assert first_visible(ticks, polls) == [1.05, 1.5, 2.0, None]
    delays, unseen = visibility_delays(ticks, polls)
    assert delays == pytest.approx([0.05, 0.4, 0.8])
    assert unseen == 1


def test_a_poll_before_the_send_does_not_count() -> None:
    # a bucket already holding enough from earlier ticks must not make a later tick visible early
    assert first_visible([Tick(5.0, "a", 1)], [(4.0, {"a": 1}), (6.0, {"a": 1})]) == [6.0]


METRICS = """# HELP statflow_events_accepted_total events written to ClickHouse
# TYPE statflow_events_accepted_total counter
statflow_events_accepted_total{topic="p.ntjp.calls.v1"} 120000
statflow_events_accepted_total{topic="p.sob.transactions.v1"} 4e+06
statflow_batches_total{topic="p.ntjp.calls.v1"} 7
statflow_consumer_lag{partition="0",topic="p.ntjp.calls.v1"} 3
statflow_consumer_lag{partition="1",topic="p.ntjp.calls.v1"} 4
"""


def test_prometheus_value_picks_and_sums_by_labels() -> None:
    name = "statflow_events_accepted_total"
    assert prometheus_value(METRICS, name, {"topic": "p.ntjp.calls.v1"}) == 120000
    assert prometheus_value(METRICS, name, {"topic": "p.sob.transactions.v1"}) == 4_000_000
    assert prometheus_value(METRICS, name) == 4_120_000
    assert prometheus_value(METRICS, "statflow_consumer_lag", {"topic": "p.ntjp.calls.v1"}) == 7
    assert prometheus_value(METRICS, name, {"topic": "other"}) == 0
    assert prometheus_value("up 1\n", "up") == 1
