"""Freshness: the delay from produce to visible in the report API at a steady rate.

Method. A fresh `statflow run` (own topics and database) gets the reference data
and a warm-up burst it must show before measuring starts. Then a producer
(aiokafka, lz4, acks=all, linger 5 ms, like a platform team's) sends `rate`
events per second in bursts ("ticks") every 100 ms for `duration` seconds. Every
tick's events are MakeBooking calls dated in a month of their own (2030-01 for
the first tick, then the next month, ...; events of real units, so they spread
over all partitions), which makes each tick separately visible in
`/api/v1/reports/webbtidbokning/events-per-month`. A poller asks that report
back to back; a tick is visible at the first answer (time the response arrived)
whose month holds all its events. Its delay is that moment minus the moment its
first event was handed to the producer, so the figure is an upper bound for
every event of the tick, and includes one report query.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from bench import data
from bench.env import BenchEnv, Worker
from bench.procinfo import PeakSampler
from bench.stats import Tick, summary, visibility_delays
from streams.settings import Settings
from streams.topics import NTJP_CALLS

TICK = 0.1
FIRST_MONTH = (2030, 1)
MONTHS = 839  # 2030-01 .. 2099-11: the contract accepts instants before 2100
WARMUP_MONTH = "2029-12"
QUERY = {"from": "2029-12-01", "to": "2099-12-31", "activity": "MakeBooking"}
PATH = "/api/v1/reports/webbtidbokning/events-per-month"


def bucket(i: int) -> str:
    k = (FIRST_MONTH[0] * 12 + FIRST_MONTH[1] - 1) + i % MONTHS
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def instant(month: str) -> str:
    return f"{month}-15T12:00:00Z"


def counts(body: dict[str, Any]) -> dict[str, int]:
    names = [c["name"] for c in body["columns"]]
    im, ie = names.index("month"), names.index("events")
    out: dict[str, int] = {}
    for r in body["rows"]:
        out[r[im]] = out.get(r[im], 0) + int(r[ie] or 0)
    return out


class Freshness:
    def __init__(self, settings: Settings, worker: Worker, rate: int, duration: float) -> None:
        self.s = settings
        self.w = worker
        self.rate = rate
        self.duration = duration
        units = [u["hsa_id"] for u in data.world().units if u["kind"] == "unit"]
        self.units = units
        self.rng = random.Random(1)
        self.ticks: list[Tick] = []
        self.polls: list[tuple[float, dict[str, int]]] = []
        self.poll_seconds: list[float] = []
        self.sent = 0
        self.late_ticks = 0
        self.produce_seconds = 0.0

    def events(self, month: str, n: int) -> list[tuple[bytes, bytes]]:
        out = []
        for _ in range(n):
            unit = self.rng.choice(self.units)
            body = {
                "event_id": str(uuid.uuid4()),
                "occurred_at": instant(month),
                "operation": "MakeBooking",
                "logical_address": unit,
                "status": "ok",
            }
            out.append((unit.encode(), orjson.dumps(body)))
        return out

    async def _send(
        self, producer: AIOKafkaProducer, batch: list[tuple[bytes, bytes]]
    ) -> list[Any]:
        topic = NTJP_CALLS.full(self.s)
        return [await producer.send(topic, v, key=k) for k, v in batch]

    async def warm_up(self, producer: AIOKafkaProducer, client: httpx.AsyncClient) -> None:
        futs = await self._send(producer, self.events(WARMUP_MONTH, 100))
        await asyncio.gather(*futs)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            r = await client.get(PATH, params=QUERY)
            if r.status_code == 200 and counts(r.json()).get(WARMUP_MONTH, 0) >= 100:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"warm-up events never became visible\n{self.w.tail()}")

    async def produce(self, producer: AIOKafkaProducer) -> None:
        per_tick = max(1, round(self.rate * TICK))
        n_ticks = round(self.duration / TICK)
        cumulative: dict[str, int] = {}
        pending: list[Any] = []
        t0 = time.monotonic()
        for i in range(n_ticks):
            month = bucket(i)
            batch = self.events(month, per_tick)  # built before its moment comes
            due = t0 + i * TICK
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -TICK:
                self.late_ticks += 1
            t = time.monotonic()
            pending.extend(await self._send(producer, batch))
            cumulative[month] = cumulative.get(month, 0) + per_tick
            self.ticks.append(Tick(t, month, cumulative[month]))
            self.sent += per_tick
            if len(pending) > 5000:
                done = [f for f in pending if f.done()]
                for f in done:
                    f.result()
                pending = [f for f in pending if not f.done()]
        await asyncio.gather(*pending)
        self.produce_seconds = time.monotonic() - t0

    async def poll(self, client: httpx.AsyncClient, producing: asyncio.Task[None]) -> None:
        deadline = None
        while True:
            a = time.monotonic()
            r = await client.get(PATH, params=QUERY)
            b = time.monotonic()
            r.raise_for_status()
            got = counts(r.json())
            self.polls.append((b, got))
            self.poll_seconds.append(b - a)
            if producing.done():
                if deadline is None:
                    deadline = b + 60
                last = {t.bucket: t.cumulative for t in self.ticks}
                if all(got.get(k, 0) >= v for k, v in last.items()) or b > deadline:
                    return

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
                with PeakSampler(self.w.pid) as mem:
                    producing = asyncio.create_task(self.produce(producer))
                    await self.poll(client, producing)
                    await producing
        finally:
            await producer.stop()
        delays, unseen = visibility_delays(self.ticks, self.polls)
        return {
            "events_sent": self.sent,
            "ticks": len(self.ticks),
            "ticks_never_visible": unseen,
            "late_ticks": self.late_ticks,
            "achieved_rate_per_s": self.sent / self.produce_seconds,
            "delay_s": summary(delays),
            "poll_s": summary(self.poll_seconds),
            "polls": len(self.polls),
            "peak_rss_mb": mem.figures()["peak_rss_mb"],
            "vmhwm_mb": mem.figures()["vmhwm_mb"],
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
        ["report poll p50 (s)", f["poll_s"].get("p50"), ""],
        ["worker peak RSS (MB, tree)", f["peak_rss_mb"], "<= 500"],
    ]
