"""/metrics: the exposition format as Prometheus parses it, the report-latency
histogram, and the worker's own metrics endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core import metrics
from web.metrics_http import metrics_app


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    """The registry is process-wide: leave it as the test found it."""
    stores: list[dict] = [metrics._counters, metrics._gauges, metrics._histograms]  # type: ignore[type-arg]
    saved = [dict(s) for s in stores]
    for s in stores:
        s.clear()
    yield
    for s, old in zip(stores, saved, strict=True):
        s.clear()
        s.update(old)


def families() -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(metrics.render())}


def test_histogram_buckets_are_cumulative_with_sum_and_count() -> None:
    for s in (0.003, 0.04, 0.04, 0.7, 30.0):
        metrics.observe("statflow_report_seconds", s, service="w", report="r", format="json")
    metrics.observe("statflow_report_seconds", 0.2, service="w", report="other", format="csv")
    fam = families()["statflow_report_seconds"]
    assert fam.type == "histogram"  # type: ignore[attr-defined]
    got = {
        (s.name, s.labels.get("report"), s.labels.get("le")): s.value
        for s in fam.samples  # type: ignore[attr-defined]
    }
    b = "statflow_report_seconds_bucket"
    assert got[(b, "r", "0.005")] == 1
    assert got[(b, "r", "0.025")] == 1
    assert got[(b, "r", "0.05")] == 3
    assert got[(b, "r", "1")] == 4
    assert got[(b, "r", "10")] == 4
    assert got[(b, "r", "+Inf")] == 5
    assert got[("statflow_report_seconds_count", "r", None)] == 5
    assert got[("statflow_report_seconds_sum", "r", None)] == pytest.approx(30.783)
    assert got[(b, "other", "0.1")] == 0 and got[(b, "other", "0.25")] == 1


def test_counters_gauges_and_histograms_render_together() -> None:
    metrics.inc("statflow_events_accepted_total", 5, topic="ntjp.calls.v1")
    metrics.gauge("statflow_consumer_lag", 7, topic="ntjp.calls.v1", partition="0")
    metrics.observe("statflow_report_seconds", 0.01, service="w", report="r", format="json")
    fam = families()
    # the client strips _total from a counter family's name
    assert fam["statflow_events_accepted"].type == "counter"  # type: ignore[attr-defined]
    assert fam["statflow_consumer_lag"].type == "gauge"  # type: ignore[attr-defined]
    assert fam["statflow_report_seconds"].type == "histogram"  # type: ignore[attr-defined]
    assert metrics.render().count("# TYPE statflow_report_seconds histogram") == 1


async def test_worker_endpoint_serves_metrics_and_health() -> None:
    metrics.inc("statflow_events_accepted_total", 3, topic="t")
    transport = httpx.ASGITransport(app=metrics_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        r = await client.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert 'statflow_events_accepted_total{topic="t"} 3' in r.text
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/api/v1/reports")).status_code == 404  # no reports here


def test_a_forgotten_gauge_series_is_no_longer_exported() -> None:
    metrics.gauge("statflow_consumer_lag", 5, topic="t", partition="0")
    metrics.gauge("statflow_consumer_lag", 7, topic="t", partition="1")
    metrics.forget("statflow_consumer_lag", topic="t", partition="0")
    metrics.forget("statflow_consumer_lag", topic="t", partition="9")  # never there: no error
    assert 'partition="0"' not in metrics.render()
    assert metrics.value("statflow_consumer_lag", topic="t", partition="1") == 7


def test_values_keep_full_precision() -> None:
    """A counter of 1,234,568 must not be exposed as 1.23457e+06."""
    metrics.inc("statflow_events_accepted_total", 1_234_568, topic="ntjp.calls.v1")
    metrics.gauge("statflow_consumer_lag", 0.1 + 0.2, topic="ntjp.calls.v1", partition="0")
    text = metrics.render()
    assert 'statflow_events_accepted_total{topic="ntjp.calls.v1"} 1234568\n' in text
    assert 'statflow_consumer_lag{partition="0",topic="ntjp.calls.v1"} 0.30000000000000004' in text
    fam = families()
    (sample,) = fam["statflow_events_accepted"].samples  # type: ignore[attr-defined]
    assert sample.value == 1_234_568


def test_label_values_are_escaped() -> None:
    metrics.gauge("statflow_consumer_lag", 1, topic='a"b\\c\nd', partition="0")
    (sample,) = families()["statflow_consumer_lag"].samples  # type: ignore[attr-defined]
    assert sample.labels["topic"] == 'a"b\\c\nd'
