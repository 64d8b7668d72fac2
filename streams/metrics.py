"""Process-wide counters and gauges, rendered in Prometheus' text format."""

from __future__ import annotations

import threading
from collections import defaultdict

_lock = threading.Lock()
_counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
_gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
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
}


def inc(name: str, value: float = 1, **labels: str) -> None:
    with _lock:
        _counters[(name, tuple(sorted(labels.items())))] += value


def gauge(name: str, value: float, **labels: str) -> None:
    with _lock:
        _gauges[(name, tuple(sorted(labels.items())))] = value


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


def render() -> str:
    lines = []
    for name, samples in sorted(snapshot().items()):
        kind = "counter" if name.endswith("_total") else "gauge"
        lines.append(f"# HELP {name} {_HELP.get(name, name)}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, v in samples:
            lab = ",".join(f'{k}="{val}"' for k, val in sorted(labels.items()))
            lines.append(f"{name}{{{lab}}} {v:g}" if lab else f"{name} {v:g}")
    return "\n".join(lines) + "\n"
