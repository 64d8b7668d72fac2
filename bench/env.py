"""The benchmarks' own local stack (own ports, own home) and real `statflow run` processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from bench.stats import prometheus_value
from core.settings import Settings
from deploy import stack

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / ".statflow" / "bench"
KAFKA_PORT = int(os.environ.get("STATFLOW_BENCH_KAFKA_PORT", "29092"))
REDIS_PORT = int(os.environ.get("STATFLOW_BENCH_REDIS_PORT", "26379"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BenchEnv:
    """The stack under .statflow/bench-stack, and one private namespace per run."""

    def __init__(self, keep: bool = False, batch_max_records: int | None = None) -> None:
        self.cfg = stack.StackConfig(
            ROOT / ".statflow" / "bench-stack", KAFKA_PORT, redis_port=REDIS_PORT
        )
        self.keep = keep
        # None = statflow's default; bench --batch-records tries others.
        self.batch_max_records = batch_max_records
        self.run_tag = time.strftime("%Y%m%d%H%M%S") + uuid.uuid4().hex[:4]
        self._namespaces: list[Settings] = []

    def __enter__(self) -> BenchEnv:
        stack.up(self.cfg)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if not self.keep:
                for s in self._namespaces:
                    self.drop(s)
        finally:
            stack.down(self.cfg)

    def settings(self, name: str) -> Settings:
        """Own topics, consumer group, ClickHouse database, chDB home and HTTP port."""
        tag = f"{self.run_tag}{name}"
        s = Settings(
            home=HOME / tag,
            kafka_bootstrap=f"127.0.0.1:{self.cfg.kafka_port}",
            clickhouse_database=f"bench_{name}",
            redis_url=f"redis://127.0.0.1:{self.cfg.redis_port}/0",
            topic_prefix=f"bench.{tag}.",
            consumer_group=f"bench-{tag}",
            http_port=free_port(),
            log_level="warning",
            clickhouse_http_port=0,  # measured processes serve only what they measure
            # one client asks many times a second: the open API's per-client
            # limit would answer 429 and time the limiter, not the report
            rate_limit_requests=0,
        )
        if self.batch_max_records is not None:
            s = s.with_(batch_max_records=self.batch_max_records)
        self._namespaces.append(s)
        return s

    def drop(self, s: Settings) -> None:
        """Delete a namespace's topics and chDB home (they can be many gigabytes)."""
        with contextlib.suppress(Exception):
            asyncio.run(delete_topics(s))
        shutil.rmtree(s.home, ignore_errors=True)


async def delete_topics(s: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap)
    await admin.start()
    try:
        # the namespace's topics, and Faust's own (named after the consumer group)
        ours = [
            t
            for t in await admin.list_topics()
            if t.startswith(s.topic_prefix) or t.startswith(s.consumer_group)
        ]
        if ours and s.topic_prefix and s.consumer_group:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


class Worker:
    """A real `statflow run` subprocess (worker and API in one process, chDB embedded)."""

    def __init__(self, settings: Settings, log: Path, command: str = "run") -> None:
        self.settings = settings
        self.log = log
        self.command = command
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.url, timeout=120)

    @property
    def url(self) -> str:
        # A worker answers only on its metrics port, a store only with
        # ClickHouse's HTTP interface (as tests/integration/harness.py).
        port = {
            "worker": self.settings.metrics_port,
            "store": self.settings.clickhouse_http_port,
        }.get(self.command, self.settings.http_port)
        return f"http://{self.settings.http_host}:{port}"

    @property
    def ready_path(self) -> str:
        return {"worker": "/healthz", "store": "/ping"}.get(self.command, "/readyz")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def spawn(self) -> Worker:
        env = {**os.environ, **self.settings.to_env(), "PYTHONPATH": str(ROOT)}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "statflow", self.command],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if self.client.get(self.ready_path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"statflow not ready in {timeout}s:\n{self.tail()}")

    def start(self, timeout: float = 120) -> Worker:
        self.spawn()
        self.wait_ready(timeout)
        return self

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"statflow exited ({self.proc.returncode}):\n{self.tail()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def close(self) -> None:
        self.stop()
        self.client.close()

    def tail(self, n: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text("utf-8", "replace").splitlines()[-n:])

    def metric(self, name: str, **labels: str) -> float:
        r = self.client.get("/metrics", timeout=10)
        r.raise_for_status()
        return prometheus_value(r.text, name, labels)

    def accepted(self, topic: str) -> int:
        return int(self.metric("statflow_events_accepted_total", topic=topic))

    def report(self, service: str, report: str, **params: Any) -> dict[str, Any]:
        r = self.client.get(f"/api/v1/reports/{service}/{report}", params=params)
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        return body

    def wait_for(
        self, check: Callable[[], Any], timeout: float, what: str, every: float = 0.5
    ) -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            self.check_alive()
            last = check()
            if last is True:
                return
            time.sleep(every)
        raise TimeoutError(f"{what} not met in {timeout}s (last: {str(last)[:300]})\n{self.tail()}")
