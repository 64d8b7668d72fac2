"""Ingest throughput: N calls pre-loaded in Kafka, consumed by one `statflow
worker` (no report API in the process, as deployed) until the last one is
queryable; then the bare-Python baselines over the same topic, side by side in
the same run.

statflow's progress is read from the worker's own /metrics counter
`statflow_events_accepted_total` (raised after the batch's rows, rollups and
checkpoint are in ClickHouse) every 50 ms: the worker's metrics port renders
its own counters only (the API's /metrics adds the shared figures, several
ClickHouse queries and a Kafka connection per scrape, which at 20 scrapes a
second took a fifth of the process). The end is the moment the daily rollup
the reports read, asked through the worker's ClickHouse HTTP interface, holds
every call of the four operations the reports count.
Both rates are (N - count at first progress) / (end - first progress), so
process start-up, the consumer group join and the first batch are left out of
both; the wall times from spawn are reported alongside.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import clickhouse_connect
import orjson

from bench import data
from bench.env import ROOT, BenchEnv, Worker, free_port
from bench.procinfo import PeakSampler, tree_cpu_seconds
from bench.stats import Progress, ratio, steady_rate
from core import auth
from core.settings import Settings
from schemas.topics import ETJ_CASES, ETJ_LOGINS, NTJP_CALLS

SERVICE = "webbtidbokning"
WHOLE = {"from": "2017-10-01", "to": "2099-12-31"}
# the measured worker's ClickHouse HTTP interface takes tokens signed with it
SECRET = "bench-ingest-secret-0123456789abcdef"
# what events-per-weekday counts (bench/data.py counted_calls)
COUNTED = (
    "SELECT sum(calls) FROM ntjp_calls_daily WHERE operation IN "
    "('GetSubjectOfCareSchedule', 'MakeBooking', 'CancelBooking', 'UpdateBooking')"
)


class Dataset:
    """A namespace with reference data and N calls pre-loaded in Kafka."""

    def __init__(self, env: BenchEnv, name: str, n: int) -> None:
        self.env = env
        self.n = n
        self.settings: Settings = env.settings(name)
        self.loaded = data.Loaded()
        self.sob_loaded = 0
        # records produced per e-services topic (cases, logins, accounts, units)
        self.etj_loaded: dict[str, int] = {}
        self.worker: Worker | None = None

    def fork(self, name: str) -> Dataset:
        """The same pre-loaded topics read by a new worker: own consumer group,
        database, chDB home and port."""
        other = Dataset.__new__(Dataset)
        mine = self.env.settings(name)
        other.env, other.n, other.loaded, other.sob_loaded, other.worker = (
            self.env,
            self.n,
            self.loaded,
            self.sob_loaded,
            None,
        )
        other.etj_loaded = self.etj_loaded
        other.settings = mine.with_(topic_prefix=self.settings.topic_prefix)
        return other

    def load_calls(self) -> None:
        asyncio.run(data.publish_reference(self.settings, sob=True))
        self.loaded = asyncio.run(data.preload(self.settings, "calls", self.n))

    def load_sob(self) -> None:
        n = max(1, round(self.n * data.SOB_PER_CALL))
        self.sob_loaded = asyncio.run(data.preload(self.settings, "sob", n)).sob

    def load_etj(self) -> None:
        """e-services at their ratio to the calls (bench/data.py): units, staff,
        accounts, then case events and logins."""
        cases = max(1, round(self.n * data.ETJ_CASES_PER_CALL * data.ETJ_EVENTS_PER_CASE))
        logins = max(1, round(self.n * data.ETJ_LOGINS_PER_CALL))
        loaded = asyncio.run(data.publish_etj_reference(self.settings, logins))
        loaded[ETJ_CASES.name] = asyncio.run(
            data.preload(self.settings, "etj-cases", cases)
        ).etj_cases
        loaded[ETJ_LOGINS.name] = asyncio.run(
            data.preload(self.settings, "etj-logins", logins)
        ).etj_logins
        self.etj_loaded = loaded

    def new_worker(self, label: str, command: str = "run") -> Worker:
        log = self.settings.home / f"statflow-{label}.log"
        s = self.settings
        if command == "worker":
            s = s.with_(jwt_secret=SECRET, metrics_port=free_port(),
                        clickhouse_http_port=free_port())  # fmt: skip
        self.worker = Worker(s, log, command)
        return self.worker

    def calls_stored(self, w: Worker) -> int:
        """Counted calls in the daily rollup, through a worker's ClickHouse HTTP."""
        s = w.settings
        token = auth.issue(SECRET, "bench", [], ["service"])
        client = clickhouse_connect.get_client(
            dsn=f"http://bench:{token}@127.0.0.1:{s.clickhouse_http_port}",
            database=s.clickhouse_database,
        )
        try:
            return int(client.query(COUNTED).result_rows[0][0] or 0)
        finally:
            client.close()

    def calls_visible(self, w: Worker) -> int:
        body = w.report(SERVICE, "events-per-weekday", **WHOLE)
        i = [c["name"] for c in body["columns"]].index("events")
        return int(sum(r[i] for r in body["rows"]))

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


def follow(
    w: Worker,
    topic: str,
    total: int,
    confirm: Callable[[], bool],
    timeout: float,
    every: float = 0.05,
    on_first: Callable[[], Any] | None = None,
) -> list[Progress]:
    """Sample the accepted counter until it reaches `total`, then confirm through
    the API; the confirmation is the last sample. `on_first` is called once at
    the first progress."""
    samples: list[Progress] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        w.check_alive()
        try:
            n = w.accepted(topic)
        except Exception:  # noqa: BLE001 - the API may not listen yet
            n = -1
        t = time.monotonic()
        if n >= total:
            while not confirm():
                if time.monotonic() > deadline:
                    raise TimeoutError("the counter reached the total but the API never did")
                time.sleep(every)
            samples.append(Progress(time.monotonic(), total))
            return samples
        if n >= 0:
            samples.append(Progress(t, n))
        if n > 0 and on_first is not None:
            on_first()
            on_first = None
        time.sleep(every)
    raise TimeoutError(f"{total} events not accepted in {timeout}s\n{w.tail()}")


def run_statflow(
    ds: Dataset, label: str = "ingest", attach: Callable[[int], Any] | None = None
) -> dict[str, Any]:
    s = ds.settings
    topic = NTJP_CALLS.full(s)
    w = ds.new_worker(label, "worker")
    t_spawn = time.monotonic()
    w.spawn()
    attached: list[Any] = []
    cpu: list[float] = []

    def first_progress() -> None:
        cpu.append(tree_cpu_seconds(w.pid))
        if attach:
            attached.append(attach(w.pid))

    with PeakSampler(w.pid) as mem:
        samples = follow(
            w,
            topic,
            ds.loaded.calls,
            lambda: ds.calls_stored(w) == ds.loaded.counted_calls,
            timeout=max(600, ds.n / 2000),
            on_first=first_progress,
        )
        cpu.append(tree_cpu_seconds(w.pid))
    rate = steady_rate(samples, ds.loaded.calls)
    cpu_s = cpu[-1] - cpu[0] if len(cpu) == 2 else float("nan")
    batches = int(w.metric("statflow_batches_total", topic=topic))
    return {
        "events": ds.loaded.calls,
        "batches": batches,
        "events_per_batch": ds.loaded.calls / batches if batches else None,
        "events_per_s": rate["events_per_s"],
        "measured_events": rate["measured_events"],
        "measured_seconds": rate["measured_seconds"],
        # CPU of the worker's tree over the measured interval
        "cpu_us_per_event": cpu_s * 1e6 / rate["measured_events"],
        "cores_used": cpu_s / rate["measured_seconds"],
        "first_progress_after_spawn_s": rate["t_first"] - t_spawn,
        "wall_from_spawn_s": rate["t_last"] - t_spawn,
        "peak_rss_mb": mem.figures()["peak_rss_mb"],
        "vmhwm_mb": mem.figures()["vmhwm_mb"],
        "attached": attached,
    }


def run_baseline(ds: Dataset, views: bool = False, exactly_once: bool = False) -> dict[str, Any]:
    s = ds.settings
    chdb_dir = s.home / (
        "baseline-once-chdb"
        if exactly_once
        else "baseline-views-chdb"
        if views
        else "baseline-chdb"
    )
    t_spawn = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.baseline",
            "--bootstrap",
            s.kafka_bootstrap,
            "--topic",
            NTJP_CALLS.full(s),
            "--partitions",
            str(s.topic_partitions),
            "--chdb",
            str(chdb_dir),
            "--expect",
            str(ds.loaded.calls),
            "--max-records",
            str(s.batch_max_records),
            *(["--views"] if views else []),
            *(["--exactly-once"] if exactly_once else []),
        ],
        cwd=ROOT,
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"baseline failed:\n{proc.stderr.decode()[-3000:]}")
    out = orjson.loads(proc.stdout.splitlines()[-1])
    samples = [Progress(t, n) for t, n in out["samples"]]
    rate = steady_rate(samples, ds.loaded.calls)
    # the loop's whole CPU (its process does nothing else); per event consumed
    cpu_s = out["cpu_seconds"]
    return {
        "cpu_us_per_event": cpu_s * 1e6 / out["consumed"],
        "cores_used": cpu_s / (samples[-1].t - samples[0].t) if len(samples) > 1 else None,
        "events": out["consumed"],
        "stored": out["stored"],
        "batches": out["batches"],
        "events_per_s": rate["events_per_s"],
        "measured_events": rate["measured_events"],
        "measured_seconds": rate["measured_seconds"],
        "wall_from_spawn_s": rate["t_last"] - t_spawn,
        "peak_rss_mb": out["peak_rss_mb"],
    }


# (name in the table, figures key, --views, --exactly-once): the bare loop, with
# statflow's views, and with the least an exactly-once loop adds (bench/baseline.py)
BASELINES = (
    ("bare loop", "baseline", False, False),
    ("bare loop + views", "baseline_views", True, False),
    ("exactly-once loop", "baseline_once", True, True),
)


def run(ds: Dataset, baseline: bool = True) -> dict[str, Any]:
    """Measure statflow, stop it (so it does not compete), then the baseline."""
    statflow = run_statflow(ds)
    statflow.pop("attached", None)
    if ds.worker is not None:
        ds.worker.stop()
    figures: dict[str, Any] = {
        "events": ds.loaded.calls,
        "preload_seconds": ds.loaded.seconds,
        "statflow": statflow,
    }
    if baseline:
        for _, key, views, once in BASELINES:
            base = run_baseline(ds, views, once)
            figures[key] = base
            figures[f"statflow_over_{key}"] = ratio(statflow["events_per_s"], base["events_per_s"])
    return figures


def rows(figures: dict[str, Any]) -> list[list[Any]]:
    sf = figures["statflow"]
    loops = [("statflow", sf)] + [
        (name, figures[key]) for name, key, _, _ in BASELINES if key in figures
    ]
    out = [[f"{n} events/s", f["events_per_s"], ""] for n, f in loops]
    if "baseline" in figures:
        out.append(["statflow / bare loop", figures["statflow_over_baseline"], ">= 1.0 (aim)"])
    if "baseline_views" in figures:
        out.append(
            ["statflow / bare loop + views", figures["statflow_over_baseline_views"], ">= 1.0"]
        )
    if "baseline_once" in figures:
        out.append(["statflow / exactly-once loop", figures["statflow_over_baseline_once"], ""])
        once, views = figures["baseline_once"], figures["baseline_views"]
        out.append(
            [
                "exactly-once loop / bare loop + views",
                ratio(once["events_per_s"], views["events_per_s"]),
                "",
            ]
        )
    out += [[f"{n} CPU us/event", f.get("cpu_us_per_event"), ""] for n, f in loops]
    out += [[f"{n} cores used", f.get("cores_used"), ""] for n, f in loops]
    out += [[f"{n} peak RSS (MB)", f["peak_rss_mb"], ""] for n, f in loops]
    if "baseline" in figures:
        limit = 1.2 * figures["baseline"]["peak_rss_mb"]
        out.append(["statflow peak RSS / bare loop's", sf["peak_rss_mb"] / limit * 1.2, "<= 1.2"])
    out += [
        ["statflow wall from spawn (s)", sf["wall_from_spawn_s"], ""],
        ["worker VmHWM (MB)", sf["vmhwm_mb"], ""],
    ]
    return out
