"""Freshness: the delay from produce to visible in the report API at a steady rate.

Method. A fresh `statflow run` (own topics and database) gets the reference data
and a warm-up burst it must show before measuring starts. Then a producer
(aiokafka, lz4, acks=all, linger 5 ms, like a platform team's) sends `rate`
events per second in bursts ("ticks") every 100 ms for `duration` seconds; all
events are built before the clock starts and are dated now, like live traffic.
Each tick's events are spread evenly over four catalogued units of its own, one
per Kafka partition (units are reused after all have had a turn, with their
counts accumulating), which makes each tick separately visible in
`/api/v1/reports/webbtidbokning/events-by-hierarchy?level=unit`.

Primary figure (`delay_s`, exact upper bound): every `poll_interval` seconds
(start to start) the report is asked for the units of the ticks not yet seen; a
tick is visible at the arrival of the first answer in which each of its units
holds all the events sent to it up to and including that tick, and its delay is
that moment minus the moment its first event was handed to the producer. It
includes up to one poll interval and one report query; the polls are spaced so
that their queries (beside the sink's inserts, on connections of their own)
leave the two cores to ingest.

Secondary figure (`counter_delay_s`, optimistic): /metrics is read every 20 ms
and a tick counts as in once `statflow_events_accepted_total` reaches the number
of events sent up to and including it. The counter rises only after the rows are
in ClickHouse, but events of a later tick may be counted while some of this
tick's are not, so this can be early by the skew between partitions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from bench import data
from bench.env import BenchEnv, Worker
from bench.procinfo import PeakSampler
from bench.stats import Tick, first_visible, prometheus_value, summary
from core.settings import Settings
from schemas.topics import NTJP_CALLS

TICK = 0.1
POLL_INTERVAL = 0.25
COUNTER_INTERVAL = 0.02
MAX_UNITS_PER_POLL = 400
WARMUP = 100
PATH = "/api/v1/reports/webbtidbokning/events-by-hierarchy"


def units_by_partition(units: list[str], partitions: int) -> list[list[str]]:
    """Catalogued units grouped by the partition their key goes to."""
    part = DefaultPartitioner()
    out: list[list[str]] = [[] for _ in range(partitions)]
    everything = list(range(partitions))
    for u in units:
        out[part(u.encode(), everything, everything)].append(u)
    return out


def counts(body: dict[str, Any]) -> dict[str, int]:
    """Events per unit from an events-by-hierarchy answer at level unit."""
    names = [c["name"] for c in body["columns"]]
    iu, ie = names.index("unit_id"), names.index("events")
    out: dict[str, int] = {}
    for r in body["rows"]:
        out[r[iu]] = out.get(r[iu], 0) + int(r[ie] or 0)
    return out


def params(units: list[str], today: dt.date) -> dict[str, str]:
    return {
        "from": (today - dt.timedelta(days=1)).isoformat(),
        "to": (today + dt.timedelta(days=1)).isoformat(),
        "level": "unit",
        "unit": ",".join(units),
    }


class Freshness:
    def __init__(self, settings: Settings, worker: Worker, rate: int, duration: float) -> None:
        self.s = settings
        self.w = worker
        self.rate = rate
        self.duration = duration
        units = sorted(u["hsa_id"] for u in data.world().units if u["kind"] == "unit")
        self.warmup_unit = units.pop(0)
        self.groups = units_by_partition(units, settings.topic_partitions)
        if not all(self.groups):
            raise RuntimeError("every partition needs units of its own")
        self.today = dt.datetime.now(dt.UTC).date()
        self.ticks: list[list[Tick]] = []  # per tick, one entry per unit
        self.polls: list[tuple[float, dict[str, int]]] = []
        self.poll_seconds: list[float] = []
        self.sent = 0
        self.late_ticks = 0
        self.produce_seconds = 0.0
        self.counter_ticks: list[Tick] = []
        self.counter_polls: list[tuple[float, dict[str, int]]] = []

    @staticmethod
    def events(unit: str, n: int) -> list[tuple[bytes, bytes]]:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        key = unit.encode()
        return [
            (
                key,
                orjson.dumps(
                    {
                        "event_id": str(uuid.uuid4()),
                        "occurred_at": now,
                        "operation": "MakeBooking",
                        "logical_address": unit,
                        "status": "ok",
                    }
                ),
            )
            for _ in range(n)
        ]

    async def _send(
        self, producer: AIOKafkaProducer, batch: list[tuple[bytes, bytes]]
    ) -> list[Any]:
        topic = NTJP_CALLS.full(self.s)
        return [await producer.send(topic, v, key=k) for k, v in batch]

    async def warm_up(self, producer: AIOKafkaProducer, client: httpx.AsyncClient) -> None:
        """Reference data loaded, partitions assigned, first batch written."""
        futs = await self._send(producer, self.events(self.warmup_unit, WARMUP))
        await asyncio.gather(*futs)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            r = await client.get(PATH, params=params([self.warmup_unit], self.today))
            if r.status_code == 200 and counts(r.json()).get(self.warmup_unit, 0) >= WARMUP:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"warm-up events never became visible\n{self.w.tail()}")

    def build(self) -> list[list[tuple[str, list[tuple[bytes, bytes]]]]]:
        """Per tick, per partition: (unit, events)."""
        per_tick = max(len(self.groups), round(self.rate * TICK))
        n = len(self.groups)
        plan = []
        for i in range(round(self.duration / TICK)):
            tick = []
            for p, group in enumerate(self.groups):
                unit = group[i % len(group)]
                tick.append((unit, self.events(unit, per_tick // n + (p < per_tick % n))))
            plan.append(tick)
        return plan

    async def produce(
        self,
        producer: AIOKafkaProducer,
        plan: list[list[tuple[str, list[tuple[bytes, bytes]]]]],
    ) -> None:
        cumulative: dict[str, int] = {}
        pending: list[Any] = []
        t0 = time.monotonic()
        for i, tick in enumerate(plan):
            wait = t0 + i * TICK - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -TICK:
                self.late_ticks += 1
            t = time.monotonic()
            entries = []
            for unit, batch in tick:
                pending.extend(await self._send(producer, batch))
                cumulative[unit] = cumulative.get(unit, 0) + len(batch)
                entries.append(Tick(t, unit, cumulative[unit]))
                self.sent += len(batch)
            self.ticks.append(entries)
            self.counter_ticks.append(Tick(t, "all", self.sent))
            if len(pending) > 5000:
                for f in [f for f in pending if f.done()]:
                    f.result()
                pending = [f for f in pending if not f.done()]
        await asyncio.gather(*pending)
        self.produce_seconds = time.monotonic() - t0

    def pending(self, seen: dict[str, int]) -> list[str]:
        need: dict[str, int] = {}
        for tick in self.ticks:
            for e in tick:
                need[e.bucket] = e.cumulative
        return [u for u, n in need.items() if seen.get(u, 0) < n]

    async def poll(self, client: httpx.AsyncClient, producing: asyncio.Task[None]) -> None:
        """The report every POLL_INTERVAL for the units not yet seen, until all are."""
        seen: dict[str, int] = {}
        deadline: float | None = None
        while True:
            a = time.monotonic()
            units = self.pending(seen)[:MAX_UNITS_PER_POLL]
            if units:
                r = await client.get(PATH, params=params(units, self.today))
                b = time.monotonic()
                r.raise_for_status()
                got = counts(r.json())
                seen.update(got)
                self.polls.append((b, got))
                self.poll_seconds.append(b - a)
            else:
                b = time.monotonic()
            if producing.done():
                deadline = deadline or b + 120
                if not self.pending(seen) or b > deadline:
                    return
            await asyncio.sleep(max(0.0, a + POLL_INTERVAL - time.monotonic()))

    async def count(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        topic = NTJP_CALLS.full(self.s)
        while not stop.is_set():
            r = await client.get("/metrics")
            n = prometheus_value(r.text, "statflow_events_accepted_total", {"topic": topic})
            self.counter_polls.append((time.monotonic(), {"all": int(n) - WARMUP}))
            await asyncio.sleep(COUNTER_INTERVAL)

    async def run(self) -> dict[str, Any]:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.s.kafka_bootstrap,
            acks="all",
            compression_type="lz4",
            linger_ms=5,
        )
        await producer.start()
        try:
            async with httpx.AsyncClient(base_url=self.w.url, timeout=30) as client:
                await self.warm_up(producer, client)
                plan = self.build()
                stop = asyncio.Event()
                with PeakSampler(self.w.pid) as mem:
                    counting = asyncio.create_task(self.count(client, stop))
                    producing = asyncio.create_task(self.produce(producer, plan))
                    await self.poll(client, producing)
                    await producing
                    stop.set()
                    await counting
        finally:
            await producer.stop()
        return self.figures(mem.figures())

    def figures(self, memory: dict[str, float]) -> dict[str, Any]:
        flat = [e for tick in self.ticks for e in tick]
        seen = iter(first_visible(flat, self.polls))
        delays: list[float] = []
        unseen = 0
        for tick in self.ticks:
            times = [next(seen) for _ in tick]
            if any(t is None for t in times):
                unseen += 1
            else:
                delays.append(max(t for t in times if t is not None) - tick[0].t)
        counter = [
            v - tick.t
            for v, tick in zip(
                first_visible(self.counter_ticks, self.counter_polls),
                self.counter_ticks,
                strict=True,
            )
            if v is not None
        ]
        return {
            "events_sent": self.sent,
            "ticks": len(self.ticks),
            "ticks_never_visible": unseen,
            "late_ticks": self.late_ticks,
            "achieved_rate_per_s": self.sent / self.produce_seconds
            if self.produce_seconds
            else None,
            "delay_s": summary(delays),
            "counter_delay_s": summary(counter),
            "poll_interval_s": POLL_INTERVAL,
            "poll_s": summary(self.poll_seconds),
            "polls": len(self.polls),
            "peak_rss_mb": memory["peak_rss_mb"],
            "vmhwm_mb": memory["vmhwm_mb"],
        }


def run(env: BenchEnv, rate: int, duration: float) -> dict[str, Any]:
    s = env.settings("freshness")
    asyncio.run(data.publish_reference(s))
    w = Worker(s, s.home / "statflow-freshness.log")
    try:
        w.start()
        return asyncio.run(Freshness(s, w, rate, duration).run())
    finally:
        w.close()


def rows(f: dict[str, Any]) -> list[list[Any]]:
    d = f["delay_s"]
    return [
        ["events sent", f["events_sent"], ""],
        ["achieved rate (events/s)", f["achieved_rate_per_s"], ""],
        ["delay p50 (s)", d.get("p50"), ""],
        ["delay p99 (s)", d.get("p99"), "<= 2"],
        ["delay max (s)", d.get("max"), ""],
        ["ticks never visible", f["ticks_never_visible"], "0"],
        ["counter-based delay p50 (s)", f["counter_delay_s"].get("p50"), ""],
        ["counter-based delay p99 (s)", f["counter_delay_s"].get("p99"), ""],
        ["report poll p50 (s)", f["poll_s"].get("p50"), ""],
        ["worker peak RSS (MB, tree)", f["peak_rss_mb"], "<= 500"],
    ]
