"""Process-wide counters, gauges and histograms, rendered in Prometheus' text format.

Each process exports its own: workers the ingest series (on STATFLOW_METRICS_PORT),
the API its request latencies; Prometheus sums over instances.
"""

from __future__ import annotations

import threading
from collections import defaultdict

# The media type of what `render` writes (Prometheus' text exposition format).
CONTENT_TYPE = "text/plain; version=0.0.4"

_lock = threading.Lock()
_counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
_gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
# Per series: observations per bucket (not cumulative), then the sum and the count.
_histograms: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = {}
# Seconds. Reports aim at p95 <= 100 ms (README), so the steps are fine below 0.25 s.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_HELP = {
    "statflow_events_accepted_total": "events written to ClickHouse",
    "statflow_events_rejected_total": "events sent to the dead-letter topic",
    "statflow_events_duplicate_total": "re-published events dropped by event_id",
    "statflow_batches_total": "batches written",
    "statflow_sink_failures_total": "failed ClickHouse writes (retried)",
    "statflow_consumer_lag": "messages behind the partition end",
    "statflow_files_applied_total": "file drops applied",
    "statflow_files_quarantined_total": "file drops quarantined whole",
    "statflow_rows_corrected_total": "rows corrected by file drops",
    "statflow_report_seconds": "time to answer a report request (query and format)",
    # shared figures, rendered by the API from ClickHouse and Kafka (reports/live.py)
    "statflow_partition_lag": "broker end offset minus the ClickHouse checkpoint, per partition",
    "statflow_dead_letters": "dead letters stored in ClickHouse, per topic",
    "statflow_freshness_seconds": "now minus the newest event stored, per topic",
    "statflow_ingest_delay_seconds": "ingest delay (ingested_at - occurred_at), recent minutes",
    "statflow_workers_alive": "workers with a recent heartbeat",
    "statflow_worker_partitions": "partitions each live worker holds, per topic",
}


def inc(name: str, value: float = 1, **labels: str) -> None:
    with _lock:
        _counters[(name, tuple(sorted(labels.items())))] += value


def gauge(name: str, value: float, **labels: str) -> None:
    with _lock:
        _gauges[(name, tuple(sorted(labels.items())))] = value


def forget(name: str, **labels: str) -> None:
    """Drop a gauge series that no longer describes anything this process holds."""
    with _lock:
        _gauges.pop((name, tuple(sorted(labels.items()))), None)


def observe(name: str, seconds: float, **labels: str) -> None:
    """One observation of a histogram (declare its name in _HELP)."""
    key = (name, tuple(sorted(labels.items())))
    with _lock:
        h = _histograms.setdefault(key, [0.0] * (len(BUCKETS) + 3))  # + "+Inf", sum, count
        h[next((i for i, b in enumerate(BUCKETS) if seconds <= b), len(BUCKETS))] += 1
        h[-2] += seconds
        h[-1] += 1


def value(name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    with _lock:
        return _counters.get(key, _gauges.get(key, 0.0))


def snapshot() -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    with _lock:
        for (name, labels), v in [*_counters.items(), *_gauges.items()]:
            out[name].append((dict(labels), v))
    return dict(out)


def _number(v: float) -> str:
    """A sample value at full precision, as Prometheus' own clients write it
    (`:g` would turn a counter of 1,234,568 into 1.23457e+06)."""
    if isinstance(v, int):
        return str(v)
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    if v.is_integer() and abs(v) < 2**63:
        return str(int(v))
    return repr(v)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _series(name: str, labels: dict[str, str], v: float) -> str:
    lab = ",".join(f'{k}="{_label(val)}"' for k, val in sorted(labels.items()))
    return f"{name}{{{lab}}} {_number(v)}" if lab else f"{name} {_number(v)}"


def family(name: str, kind: str, help_text: str,
           samples: list[tuple[dict[str, str], float]]) -> list[str]:  # fmt: skip
    """One metric family in the text format, for figures not in the registry
    (the shared figures the API reads from ClickHouse and Kafka)."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    return lines + [_series(name, labels, v) for labels, v in samples]


def render() -> str:
    lines = []
    for name, samples in sorted(snapshot().items()):
        kind = "counter" if name.endswith("_total") else "gauge"
        lines.append(f"# HELP {name} {_HELP.get(name, name)}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(_series(name, labels, v) for labels, v in samples)
    with _lock:
        hists = sorted((k, list(h)) for k, h in _histograms.items())
    for i, ((name, labels), h) in enumerate(hists):
        if i == 0 or hists[i - 1][0][0] != name:
            lines.append(f"# HELP {name} {_HELP.get(name, name)}")
            lines.append(f"# TYPE {name} histogram")
        running = 0.0
        for bound, n in zip([*BUCKETS, float("inf")], h[:-2], strict=True):
            running += n
            le = "+Inf" if bound == float("inf") else f"{bound:g}"
            lines.append(_series(f"{name}_bucket", {**dict(labels), "le": le}, running))
        lines.append(_series(f"{name}_sum", dict(labels), h[-2]))
        lines.append(_series(f"{name}_count", dict(labels), h[-1]))
    return "\n".join(lines) + "\n"
