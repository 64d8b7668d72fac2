"""What Prometheus scrapes in the compose deployment, from real processes: a
`statflow worker` serves its ingest series on STATFLOW_METRICS_PORT, and the
report API times the reports it answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from core.settings import Settings
from schemas.topics import BY_NAME
from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from tests.integration.conftest import free_port
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def test_a_worker_serves_its_ingest_metrics(settings: Settings, tmp_path: Path) -> None:
    # A worker has no API: the harness waits on its metrics port's /healthz.
    worker = StatflowProcess(
        settings.with_(metrics_port=free_port()), tmp_path / "worker.log", "worker"
    )
    world = make_world(seed=3, n_units=10)
    calls = make_calls(
        world, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 2, 1, tzinfo=dt.UTC),
        500, seed=3,
    )  # fmt: skip
    publish(settings, "hsa.units.v1", world.units)
    publish(settings, "ntjp.calls.v1", [*calls, b"{not json"])
    topic = BY_NAME["ntjp.calls.v1"].full(settings)
    try:
        worker.start()

        def ingested() -> Any:
            got = samples(worker.get("/metrics").text)
            accepted = got.get(("statflow_events_accepted_total", (("topic", topic),)))
            rejected = got.get(("statflow_events_rejected_total", (("topic", topic),)))
            # the lag gauge follows the Kafka commit, one loop round after the counters
            lags = [v for (name, _), v in got.items() if name == "statflow_consumer_lag"]
            done = (accepted, rejected) == (500, 1) and lags and all(v == 0 for v in lags)
            return True if done else (accepted, rejected, lags)

        worker.wait_for(ingested, timeout=120, what="worker /metrics counts the calls, lag 0")
        assert worker.get("/api/v1/reports").status_code == 404  # the worker serves no reports
    finally:
        worker.stop()


def test_the_api_times_the_reports_it_answers(
    settings: Settings, statflow: StatflowProcess
) -> None:
    statflow.start()
    span = {"from": "2024-01-01", "to": "2024-01-31"}
    statflow.report("webbtidbokning", "events-per-month", **span)
    csv = statflow.get("/api/v1/reports/webbtidbokning/events-per-month", **span, format="csv")
    assert csv.status_code == 200
    assert statflow.get("/api/v1/reports/webbtidbokning/no-such-report").status_code == 404
    got = samples(statflow.get("/metrics").text)
    base = (("report", "events-per-month"), ("service", "webbtidbokning"))
    for fmt in ("csv", "json"):
        labels = tuple(sorted((*base, ("format", fmt))))
        assert got[("statflow_report_seconds_count", labels)] == 1
        assert (
            got[("statflow_report_seconds_bucket", tuple(sorted((*labels, ("le", "+Inf")))))] == 1
        )
        assert got[("statflow_report_seconds_sum", labels)] > 0
    assert not any("no-such-report" in str(k) for k in got)  # errors are not latencies
