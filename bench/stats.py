"""Pure arithmetic of the benchmarks: percentiles, rates, freshness matching."""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, got {q}")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary(values: Sequence[float], qs: Sequence[float] = (50, 95, 99)) -> dict[str, float]:
    """n, min, mean, max and the given percentiles (keys p50, p95, ...)."""
    if not values:
        return {"n": 0}
    out: dict[str, float] = {
        "n": len(values),
        "min": min(values),
        "mean": sum(values) / len(values),
        "max": max(values),
    }
    for q in qs:
        out[f"p{q:g}"] = percentile(values, q)
    return out


def rate(events: int, seconds: float) -> float:
    """Events per second; refuses an empty interval rather than dividing by zero."""
    if seconds <= 0:
        raise ValueError(f"an interval must be positive, got {seconds}")
    return events / seconds


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


@dataclass(frozen=True)
class Progress:
    """A (time, cumulative count) sample of a consumer's progress."""

    t: float
    count: int


def steady_rate(samples: Sequence[Progress], total: int) -> dict[str, float]:
    """Throughput between the first sample with any progress and the first that
    reached `total`: (total - count_first) / (t_last - t_first).

    Starting at the first progress leaves process start-up and the first batch
    out, so statflow and the baseline are compared on the same footing.
    """
    first = next((s for s in samples if s.count > 0), None)
    last = next((s for s in samples if s.count >= total), None)
    if first is None or last is None:
        raise ValueError(f"the samples never reached {total}")
    seconds = last.t - first.t
    events = total - first.count
    if events <= 0 or seconds <= 0:
        # everything arrived in the first observed batch: no interval to measure
        raise ValueError("all events arrived before the second sample; use more events")
    return {
        "events_per_s": events / seconds,
        "measured_events": events,
        "measured_seconds": seconds,
        "t_first": first.t,
        "t_last": last.t,
    }


@dataclass(frozen=True)
class Tick:
    """One burst of the freshness producer: sent at `t`, into `bucket`; the bucket
    then holds `cumulative` events in all (this tick's included)."""

    t: float
    bucket: str
    cumulative: int


def first_visible(
    ticks: Sequence[Tick], polls: Sequence[tuple[float, Mapping[str, int]]]
) -> list[float | None]:
    """Per tick, the time of the first poll (time, counts per bucket) at or after
    the tick's send that shows its bucket holding at least `cumulative` events;
    None if no poll does."""
    polls = sorted(polls, key=lambda p: p[0])
    times = [t for t, _ in polls]
    out: list[float | None] = []
    for tick in ticks:
        out.append(
            next(
                (
                    t
                    for t, counts in polls[bisect.bisect_left(times, tick.t) :]
                    if counts.get(tick.bucket, 0) >= tick.cumulative
                ),
                None,
            )
        )
    return out


def visibility_delays(
    ticks: Sequence[Tick], polls: Sequence[tuple[float, Mapping[str, int]]]
) -> tuple[list[float], int]:
    """The delays (first visible - send) of the ticks seen, and how many never were."""
    seen = first_visible(ticks, polls)
    delays = [v - t.t for v, t in zip(seen, ticks, strict=True) if v is not None]
    return delays, sum(1 for v in seen if v is None)


def prometheus_value(text: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """Sum of the samples of metric `name` whose labels include `labels`."""
    want = dict(labels or {})
    total = 0.0
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        metric, brace, rest = head.partition("{")
        if metric != name:
            continue
        got = _labels(rest.rstrip("}")) if brace else {}
        if all(got.get(k) == v for k, v in want.items()):
            total += float(value)
    return total


def _labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split('",'):
        key, sep, value = part.partition('="')
        if sep:
            out[key.strip().lstrip(",")] = value.rstrip('"')
    return out
